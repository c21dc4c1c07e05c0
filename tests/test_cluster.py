"""The synthetic DAG on a one-node SLURM cluster, through profiles/slurm and profiles/cluster-generic.

tests/cluster/slurm.sh brings the cluster up (installing Debian's slurm-wlm and munge when they are
missing) and takes it down. A cluster that cannot start fails the test with the reason.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from conftest import REPO, snakemake, tiny_config, write_config

SLURM = REPO / "tests/cluster/slurm.sh"
GENERIC = REPO / "profiles/cluster-generic"
# The profile names its submit and status commands relative to the repository root; the tests run
# elsewhere, so they pass the same commands with absolute paths.
PROFILE = yaml.safe_load((GENERIC / "config.yaml").read_text())
GENERIC_COMMANDS = ("--cluster-generic-submit-cmd", str(REPO / PROFILE["cluster-generic-submit-cmd"]),
                    "--cluster-generic-status-cmd", str(REPO / PROFILE["cluster-generic-status-cmd"]))
# The node has the machine's cores; group jobs are stacked to fit them.
FIT = ("--max-threads", "2", "--resources", "mem_mb=16000", "--jobs", "4", "--seconds-between-status-checks", "2")
TARGET = "results/synthetic_0_50.json"  # the E2E run's result


@pytest.fixture(scope="module")
def slurm():
    started = subprocess.run(["bash", str(SLURM), "start"], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"the one-node SLURM cluster did not start:\n{started.stdout}\n{started.stderr}")
    yield
    subprocess.run(["bash", str(SLURM), "stop"], capture_output=True)


def jobs_seen_by_slurm(log: str) -> int:
    return log.count("has been submitted with SLURM jobid") + log.count("with external jobid")


@pytest.mark.parametrize("profile, extra", [
    # no slurmdbd here, so no sacct
    ("slurm", ("--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2")),
    ("cluster-generic", GENERIC_COMMANDS),
])
def test_the_synthetic_dag_runs_through_the_cluster_profile(slurm, tiny_run_copy, profile, extra):
    """From training on, on a built tiny run. Through the generic profile: a GPU stage, then CPU
    stages of every kind (extraction shards, merges, seen prototypes, composition, scoring). Through
    the SLURM plugin, whose jobs cost more to start: training and the target's extraction shards, a
    GPU and a CPU partition. The data stages are the same kind of job and only cost the per-job
    overhead again."""
    work = tiny_run_copy
    target = TARGET if profile == "cluster-generic" else "features/e2e_synthetic/synthetic.h5"
    if profile == "slurm":  # the job's one launcher starts the 2 training processes
        write_config(work / "config.yaml", tiny_config(runs={"e2e_synthetic": {"train": {"processes": 2}}}))
    (work / target).unlink()
    for kept in work.glob("models/*/.kept"):  # train anew, not take the kept models back
        shutil.rmtree(kept)
    result = snakemake(work, target, "--forcerun", "train_model", "--profile", str(REPO / "profiles" / profile),
                       *extra, *FIT, slurm=True)
    log = result.stdout + result.stderr
    assert jobs_seen_by_slurm(log) >= (8 if profile == "cluster-generic" else 3), log[-3000:]
    if profile == "slurm":
        # CPU stages go to the cpu partition; the GPU stage to gpu (no GPU asked: the run wants 0)
        assert "slurm_partition=gpu" in log and "slurm_partition=cpu" in log
        trained = (work / "logs/train_model/e2e_synthetic.log").read_text()
        assert "training in 2 processes, 2 on each of 1 node(s)" in trained, trained[-2000:]
    else:
        assert json.loads((work / TARGET).read_text())["n_splits"] == 3
    again = snakemake(work, target, "-n", slurm=True)
    assert "Nothing to be done" in again.stdout + again.stderr


# A rule whose first attempt sleeps until the scheduler kills it and whose second finishes at once.
KILLED_SNAKEFILE = """
rule slow:
    output:
        "slow.txt",
    resources:
        nap=lambda wildcards, attempt: 600 if attempt == 1 else 0,
    shell:
        "sleep {resources.nap}; touch {output}"
"""


def test_a_job_the_scheduler_kills_fails_in_snakemake_and_is_retried(slurm, tmp_path):
    """scancel stands for any end the scheduler imposes (time limit, memory): status.py reports it."""
    (tmp_path / "Snakefile").write_text(KILLED_SNAKEFILE)
    log_path = tmp_path / "snakemake.log"
    with open(log_path, "w") as log_file:
        run = subprocess.Popen([sys.executable, "-m", "snakemake", "--snakefile", str(tmp_path / "Snakefile"),
                                "--directory", str(tmp_path), "--cores", "2", "--profile", str(GENERIC),
                                *GENERIC_COMMANDS, *FIT, "--retries", "1", "slow.txt"],
                               stdout=log_file, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONHASHSEED": "0"})
    try:
        job = ""
        deadline = time.monotonic() + 60
        while not job and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.5)
            job = subprocess.run(["squeue", "--noheader", "--name=zsar-slow", "--states=RUNNING", "--format=%i"],
                                 capture_output=True, text=True).stdout.strip()
        assert job, f"the job never ran on the cluster:\n{log_path.read_text()[-3000:]}"
        subprocess.run(["scancel", job], check=True)
        run.wait(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
            subprocess.run(["scancel", "--name=zsar-slow"])
    log = log_path.read_text()
    assert "Error in rule slow" in log and f"external_jobid: {job}" in log, log[-3000:]
    assert run.returncode == 0 and (tmp_path / "slow.txt").exists(), log[-3000:]  # the retry ran


def load_status():
    spec = importlib.util.spec_from_file_location("cluster_generic_status", GENERIC / "status.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("states, expected", [
    (["PENDING"], "running"), (["RUNNING"], "running"), (["COMPLETING"], "running"), (["REQUEUED"], "running"),
    (["SUSPENDED"], "running"), (["COMPLETED"], "success"), (["FAILED"], "failed"), (["CANCELLED"], "failed"),
    (["CANCELLED by 0"], "failed"), (["TIMEOUT"], "failed"), (["OUT_OF_MEMORY"], "failed"),
    (["NODE_FAIL"], "failed"), (["PREEMPTED"], "failed"), (["DEADLINE"], "failed"),
    (["COMPLETED", "RUNNING"], "running"),  # a heterogeneous job: running while any part runs
    (["COMPLETED", "FAILED"], "failed"), (["COMPLETED", "COMPLETED"], "success"),
    (["SOMETHING_NEW"], "failed"),  # an unknown state is noticed rather than waited on
])
def test_status_maps_slurm_states(states, expected):
    assert load_status().verdict(states) == expected


FAKE_SQUEUE = {
    "running": "echo RUNNING",
    "forgotten": "echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1",
    "unreachable": "echo 'slurm_load_jobs error: Socket timed out on send/recv operation' >&2; exit 1",
}
FAKE_SACCT = {
    "completed": "echo COMPLETED",
    "timeout": "echo TIMEOUT",
    "no_slurmdbd": "echo 'Slurm accounting storage is disabled' >&2; exit 1",
}


@pytest.mark.parametrize("squeue, sacct, expected", [
    ("running", "no_slurmdbd", "running"),
    ("forgotten", "completed", "success"),  # squeue purged it (MinJobAge); accounting remembers
    ("forgotten", "timeout", "failed"),
    ("forgotten", "no_slurmdbd", "failed"),  # nobody remembers: rerun rather than trust the outputs
    ("unreachable", "completed", "running"),  # the controller is busy: ask again next time
])
def test_status_asks_squeue_then_sacct(tmp_path, squeue, sacct, expected):
    for name, body in (("squeue", FAKE_SQUEUE[squeue]), ("sacct", FAKE_SACCT[sacct])):
        (tmp_path / name).write_text(f"#!/bin/sh\n{body}\n")
        (tmp_path / name).chmod(0o755)
    result = subprocess.run([str(GENERIC / "status.py"), "1234"], capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"})
    assert result.returncode == 0 and result.stdout == f"{expected}\n", result.stderr
