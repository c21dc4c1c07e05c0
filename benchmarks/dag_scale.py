"""Benchmark (issue 8): how big the DAG of a Kinetics-700 run is, and how long Snakemake takes to
build it, for a few shard sizes. No video is needed: the dataset folders hold only the files the
manifests require (empty), and the shard count comes from the manifest's video count.

    .venv/bin/python benchmarks/dag_scale.py [videos_per_shard ...]

It dry-runs `results/e2e_k664/ucf101_0_50.json` (Kinetics-700 source, 580,317 videos; UCF101
target, 13,320) and prints the jobs per rule and the wall time of `snakemake -n`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TARGET = "results/e2e_k664/ucf101_0_50.json"


def fake_data(root: Path) -> None:
    """The files and folders the manifests require, empty."""
    for dataset in ("kinetics700", "ucf101"):
        manifest = yaml.safe_load((REPO / "data_manifest" / f"{dataset}.yaml").read_text())
        for rel in manifest["required"]:
            path = root / "data" / dataset / rel
            if Path(rel).suffix:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            else:
                path.mkdir(parents=True, exist_ok=True)


def dry_run(workdir: Path, videos_per_shard: int) -> tuple[float, Counter]:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["decode"]["videos_per_shard"] = videos_per_shard
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
               str(workdir), "--cores", "8", "-n", TARGET, "--quiet", "rules"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"snakemake -n failed:\n{result.stdout}\n{result.stderr}")
    jobs = Counter()
    for line in (result.stdout + result.stderr).splitlines():
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if match and match.group(1) != "total":
            jobs[match.group(1)] = int(match.group(2))
    return elapsed, jobs


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [250, 500, 1000]
    workdir = Path(tempfile.mkdtemp())
    fake_data(workdir)
    print(f"dry run of {TARGET}: Kinetics-700 (580,317 videos) -> UCF101 (13,320 videos)")
    print(f"{'videos/shard':>13}{'jobs':>7}{'decode_clips':>14}{'extract_embeddings':>20}{'snakemake -n (s)':>18}")
    for size in sizes:
        elapsed, jobs = dry_run(workdir, size)
        print(f"{size:>13}{sum(jobs.values()):>7}{jobs['decode_clips']:>14}{jobs['extract_embeddings']:>20}"
              f"{elapsed:>18.1f}")


if __name__ == "__main__":
    main()
