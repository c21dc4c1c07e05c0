"""Shared fixtures: the tiny synthetic config and a whole-DAG run on it."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]

# The repository's config, shrunk so the whole DAG runs in well under a minute on 2 cores.
TINY = {
    "synthetic": {"frames": 12, "size": 32, "videos_per_class": {"synthkinetics": {"train": 3, "val": 2},
                                                                  "synthetic": {"test": 2}}},
    "decode": {"min_frames": 4, "overrides": {"synthkinetics": {"short_side": 32, "videos_per_shard": 75},
                                              "synthetic": {"short_side": 32, "videos_per_shard": 20}}},
    "runs": {"e2e_synthetic": {"sampling": {"frames": 4, "stride": 2, "crop": 28, "test_clips": 2},
                               "model": {"widths": [4, 8], "layers": [1, 1]},
                               "train": {"epochs": 2, "batch_size": 8, "lr_milestones": []}},
             "rest_synthetic": {"sampling": {"frames": 4, "stride": 2, "crop": 28, "test_clips": 2},
                                "train": {"warmup_epochs": 1, "epochs": 1, "batch_size": 8}},
             "jigsaw_synthetic": {"sampling": {"frames": 4, "stride": 2, "crop": 28, "test_clips": 2},
                                  # with the object branch, from the world's simulated detections
                                  "model": {"widths": [4, 8], "layers": [1, 1], "d": 8, "objects": True},
                                  "train": {"epochs": 2, "batch_size": 8, "lr_milestones": []}}},
    # The ablations of jigsaw_synthetic train as it does; the whole-DAG tests build the three methods.
    "summary_runs": ["e2e_synthetic", "rest_synthetic", "jigsaw_synthetic"],
    "splits": {"count": 3},
    "compose": {"grid": {"epsilon": [0.5], "K": [3, 5], "d": [1, 3]}},
}


@pytest.fixture(scope="session", autouse=True)
def ffmpeg_libraries() -> None:
    """FFmpeg's shared libraries, which torchcodec loads, installed with apt-get when missing and root.

    At the session's start: torchcodec imported before they are there stays without them in that
    process, and in every child forked from it."""
    import ctypes.util

    if ctypes.util.find_library("avcodec") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "ffmpeg"], check=True, capture_output=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


@pytest.fixture(params=["decord", "pyav", "torchcodec"])
def backend(request) -> str:
    """Each decoder backend of decode.backend in turn (torchcodec needs FFmpeg's libraries: above)."""
    if request.param == "torchcodec":
        from zsar.data import video

        video.check_backend("torchcodec")  # names what is missing, where this user cannot install it
    return request.param


def merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def tiny_config(**overrides) -> dict:
    config = merge(yaml.safe_load((REPO / "config.yaml").read_text()), TINY)
    return merge(config, overrides)


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


# Snakemake's SLURM plugin runs `scontrol show config` (10 s timeout) whenever snakemake starts.
# Where SLURM is installed but not running (here after the cluster test has stopped it), that costs
# every call 10 s; the calls that do not use the cluster find a `scontrol` that fails at once.
NO_SLURM = Path(__file__).resolve().parent / "cluster" / "no_slurm"


def snakemake(workdir: Path, *args: str, check: bool = True, command=SNAKEMAKE,
              slurm: bool = False, python_path: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if python_path is not None:  # a package of the user's (a method of their own) to import
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(python_path), env.get("PYTHONPATH")]))
    if not slurm:
        env["PATH"] = f"{NO_SLURM}{os.pathsep}{env.get('PATH', '')}"
    # Run from the working directory: `python -m` puts the current one first on sys.path, where a
    # checkout's zsar/ would shadow python_path's.
    result = subprocess.run([*command, "--directory", str(workdir), "--cores", "2", *args],
                            capture_output=True, text=True, env=env, cwd=workdir if python_path else None)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def copy_workflow(to: Path, library: bool = False) -> Path:
    """The workflow's files (those git lists, less tests, benchmarks, docs and config.yaml: the working
    directory holds its own; with library=True the zsar package too, for a test that changes it:
    run with python_path=to) copied to `to`, times kept; returns the Snakefile."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    left_out = {"tests", "benchmarks", "docs", ".ci"} | (set() if library else {"zsar"})
    for rel in listed:
        if rel.split("/")[0] not in left_out and rel != "config.yaml" and (REPO / rel).is_file():
            (to / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, to / rel)
    return to / "Snakefile"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A working directory in which the whole synthetic DAG has run once on the tiny config."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    write_config(workdir / "config.yaml", tiny_config())
    snakemake(workdir)
    return workdir


@pytest.fixture
def tiny_run_copy(tiny_run, tmp_path) -> Path:
    """A copy of the tiny run (files, times and Snakemake's metadata) that a test may change."""
    copy_dir = tmp_path / "run"
    shutil.copytree(tiny_run, copy_dir, symlinks=True)
    return copy_dir
