"""Benchmark: how big the DAG of a Kinetics-700 run is, and how long Snakemake takes to build it.

    .venv/bin/python benchmarks/dag_scale.py [--repeats N] [videos_per_shard ...]

It lays out Kinetics-700 (580,317 videos) and UCF101 (13,320) as the official downloads are:
annotation files with one line per video and one file per video, empty. It runs the listing first
(rule list_videos, the one stage that reads the annotations and stats every video), timed, then
dry-runs `results/e2e_k664/ucf101_0_50.json`: building the DAG reads the listing, never a video,
so that figure is what a user waits for before any job starts, and what each cluster job's parse
costs. It prints the jobs per rule and the wall time of `snakemake -n` (median and range of N
runs; the first run is also shown, since it may find the file system's metadata cache cold).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TARGET = "results/e2e_k664/ucf101_0_50.json"


def classes(dataset: str) -> list[str]:
    manifest = yaml.safe_load((REPO / "data_manifest" / f"{dataset}.yaml").read_text())
    return [c["name"] if isinstance(c, dict) else c for c in manifest["classes"]], manifest["counts"]


def fake_kinetics(root: Path) -> int:
    names, counts = classes("kinetics700")
    (root / "annotations").mkdir(parents=True)
    made = 0
    for side in ("train", "val"):
        lines = ["label,youtube_id,time_start,time_end,split"]
        for k in range(counts[side]):
            label = names[k % len(names)]
            youtube_id = f"{side[0]}{k:010d}"  # distinct across train and val
            lines.append(f'"{label}",{youtube_id},0,10,{side}')
            folder = root / side / label
            if k < len(names):
                folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{youtube_id}_000000_000010.mp4").touch()
            made += 1
        (root / "annotations" / f"{side}.csv").write_text("\n".join(lines) + "\n")
    return made


def fake_ucf101(root: Path) -> int:
    names, counts = classes("ucf101")
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("".join(f"{k} {name}\n" for k, name in enumerate(names, 1)))
    train, test = [], []
    for k in range(counts["videos"]):
        name = names[k % len(names)]
        rel = f"{name}/v_{name}_g{k // len(names):03d}_c01.avi"
        (train if k % 3 else test).append(rel)
        path = root / "UCF-101" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    (lists / "trainlist01.txt").write_text("".join(f"{rel} 1\n" for rel in train))
    (lists / "testlist01.txt").write_text("".join(f"{rel}\n" for rel in test))
    return counts["videos"]


def snakemake(workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--cores", "8", *args]


def list_videos(workdir: Path) -> float:
    """Seconds to list both datasets (annotations read, every video stat-ed), one job after the other."""
    (workdir / "config.yaml").write_text(yaml.safe_dump(yaml.safe_load((REPO / "config.yaml").read_text())))
    started = time.perf_counter()
    result = subprocess.run(snakemake(workdir, "--cores", "1", "index/kinetics700/listed.json",
                                      "index/ucf101/listed.json"), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"listing failed:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started


def dry_run(workdir: Path, videos_per_shard: int) -> tuple[float, Counter]:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["decode"]["videos_per_shard"] = videos_per_shard
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    command = snakemake(workdir, "-n", TARGET, "--quiet", "rules")
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[500])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        videos = fake_kinetics(workdir / "data/kinetics700") + fake_ucf101(workdir / "data/ucf101")
        print(f"laid out {videos:,} empty videos and their annotations in {time.perf_counter() - started:.0f} s")
        print(f"listed both (list_videos: annotations read, every video stat-ed) in {list_videos(workdir):.1f} s")
        print(f"dry run of {TARGET}: Kinetics-700 -> UCF101, {args.repeats} runs per size")
        print(f"{'videos/shard':>13}{'jobs':>7}{'decode_clips':>14}{'index_videos':>14}"
              f"{'first run (s)':>15}{'median (s)':>12}{'range (s)':>14}")
        for size in args.sizes:
            times = []
            for _ in range(args.repeats):
                elapsed, jobs = dry_run(workdir, size)
                times.append(elapsed)
            print(f"{size:>13}{sum(jobs.values()):>7}{jobs['decode_clips']:>14}{jobs['index_videos']:>14}"
                  f"{times[0]:>15.1f}{statistics.median(times):>12.1f}{f'{min(times):.1f}-{max(times):.1f}':>14}")


if __name__ == "__main__":
    main()
