"""A lock left by a killed run (zsar/pipeline/locks.py): removed when its process is gone from this host,
explained with the command to run when it cannot be checked."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import NO_SLURM, SNAKEMAKE, tiny_config, write_config
from zsar.pipeline import locks


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".snakemake/locks").mkdir(parents=True)
    (tmp_path / ".snakemake/locks/0.output.lock").write_text("results/x.json\n")
    return tmp_path


def owned_by(pid, **fields):
    locks.OWNER.write_text(json.dumps({"host": os.uname().nodename, "pid": pid, "start": locks._process_start(pid),
                                       "since": "2026-12-05 01:00:00", "command": "snakemake --cores 8", **fields}))


def test_the_lock_of_a_process_that_is_gone_is_removed_and_said(workdir, capsys):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    owned_by(ended.pid, start="another boot:1")
    ended.wait()
    locks.clear_stale()
    assert not any((workdir / ".snakemake/locks").iterdir()) and not locks.OWNER.exists()
    assert f"removed the lock left by snakemake (process {ended.pid}" in capsys.readouterr().err


def test_the_lock_of_a_running_process_stays(workdir, capsys):
    owned_by(os.getpid())
    locks.clear_stale()
    assert (workdir / ".snakemake/locks/0.output.lock").exists()
    assert "is still running in this directory" in capsys.readouterr().err


def test_a_reused_process_id_is_not_the_owner(workdir, capsys):
    owned_by(os.getpid(), start="another boot:1")  # the id now belongs to another process
    locks.clear_stale()
    assert not (workdir / ".snakemake/locks/0.output.lock").exists()


def test_a_lock_taken_on_another_host_is_explained_with_what_to_run(workdir, capsys):
    owned_by(os.getpid(), host="login-node-2")
    locks.clear_stale()
    assert (workdir / ".snakemake/locks/0.output.lock").exists()
    message = capsys.readouterr().err
    assert "login-node-2" in message and "run `snakemake --unlock` here once, then your command again" in message


def test_a_lock_zsar_did_not_see_taken_is_left_to_snakemake(workdir, capsys):
    locks.clear_stale()
    assert (workdir / ".snakemake/locks/0.output.lock").exists() and capsys.readouterr().err == ""


def test_a_run_killed_with_its_jobs_restarts_with_the_same_command(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config())
    command = [*SNAKEMAKE, "--directory", str(tmp_path), "--cores", "2", "clips/synthkinetics.parquet"]
    env = {**os.environ, "PATH": f"{NO_SLURM}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                           start_new_session=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / locks.OWNER).exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    assert run.poll() is None, "the run ended before it could be killed"
    time.sleep(1)
    os.killpg(run.pid, signal.SIGKILL)  # as a scheduler ends a job: the process and its children
    run.wait()
    assert any((tmp_path / ".snakemake/locks").iterdir())
    again = subprocess.run(command, capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "removed the lock left by snakemake" in again.stderr and (tmp_path / "clips/synthkinetics.parquet").exists()
