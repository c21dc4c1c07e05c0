"""The synthetic DAG on a one-node SLURM cluster, through profiles/slurm and profiles/cluster-generic.

tests/cluster/slurm.sh brings the cluster up (installing Debian's slurm-wlm and munge when they are
missing) and takes it down. A cluster that cannot start fails the test with the reason.
"""

import json
import subprocess

import pytest

from conftest import REPO, snakemake, tiny_config, write_config

SLURM = REPO / "tests/cluster/slurm.sh"
# The node has the machine's cores; group jobs are stacked to fit them.
FIT = ("--max-threads", "2", "--resources", "mem_mb=16000", "--jobs", "4", "--seconds-between-status-checks", "2")
TARGET = "results/synthetic_0_50.json"  # the E2E run: every kind of stage, half the jobs of the demo


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
    ("cluster-generic", ("--cluster-generic-submit-cmd", str(REPO / "profiles/cluster-generic/submit.py"))),
])
def test_the_synthetic_dag_runs_through_the_cluster_profile(slurm, tmp_path, profile, extra):
    write_config(tmp_path / "config.yaml", tiny_config())
    result = snakemake(tmp_path, TARGET, "--profile", str(REPO / "profiles" / profile), *extra, *FIT, slurm=True)
    log = result.stdout + result.stderr
    assert jobs_seen_by_slurm(log) >= 8, log[-3000:]
    assert json.loads((tmp_path / TARGET).read_text())["n_splits"] == 3
    if profile == "slurm":
        # CPU stages go to the cpu partition; the GPU stage to gpu (no GPU asked: the run wants 0)
        assert "slurm_partition=gpu" in log and "slurm_partition=cpu" in log
    again = snakemake(tmp_path, TARGET, "-n", slurm=True)
    assert "Nothing to be done" in again.stdout + again.stderr
