"""Benchmark: reading the clip cache in a plain shuffle against runs of shards (ShardRuns).

    .venv/bin/python benchmarks/shard_order.py [--shards 1000] [--videos 16] [--clips 2000] [--rounds 5]

It writes a JPEG clip cache of --shards shards (default 1,000, Kinetics-700 has ~1,200), --videos
videos each (16 frames at 64x85), then reads --clips training clips through TrainClips in one
process with the training loop's handle budget (train.open_shards, 32): side "shuffle" in a plain
random order over all videos, side "runs" in ShardRuns' order (train.shard_window, 8). The sides
alternate (shuffle, runs, shuffle, runs, ...) for --rounds rounds, each round a new epoch's order.
It prints each side's clips/s and shard opens per 1,000 clips (median over rounds), and the median
over rounds of the paired ratio runs/shuffle with its range.

Opening a shard costs an HDF5 open and its index (ids, frame counts, offsets); a real shard holds
500 videos, so its index costs more than here, and a network file system adds a round trip per open.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from zsar.data import cache
from zsar.data.cache import ShardWriter
from zsar.data.clips import ShardRuns, TrainClips
from zsar.methods import LOADER_OPTIONS


def write_cache(folder: Path, shards: int, videos: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(16, 64, 85, 3), dtype=np.uint8)
    rows = []
    for k in range(shards):
        path = folder / f"{k}.h5"
        with ShardWriter(path, short_side=64, codec="jpeg", quality=90) as writer:
            for j in range(videos):
                writer.add(f"v{k}_{j}", "x", frames)
                rows.append((str(path), f"v{k}_{j}", "x"))
    return pd.DataFrame(rows, columns=["shard_path", "video_id", "label"])


def read(videos: pd.DataFrame, order, clips: int) -> tuple[float, int]:
    """Seconds to read the first `clips` of `order`, and how many shard files were opened."""
    opened = [0]
    real = cache._Shard.__init__

    def counting(self, path):
        opened[0] += 1
        real(self, path)

    cache._Shard.__init__ = counting
    try:
        dataset = TrainClips(videos, {"x": 0}, length=8, stride=2, crop=56, seed=0,
                             max_open=LOADER_OPTIONS["open_shards"])
        started = time.perf_counter()
        for i in list(order)[:clips]:
            dataset[i]
        return time.perf_counter() - started, opened[0]
    finally:
        cache._Shard.__init__ = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=1000)
    parser.add_argument("--videos", type=int, default=16, help="videos per shard")
    parser.add_argument("--clips", type=int, default=2000, help="clips read per side and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        videos = write_cache(Path(tmp), args.shards, args.videos)
        print(f"wrote {args.shards} shards x {args.videos} videos in {time.perf_counter() - started:.0f} s; "
              f"reading {args.clips} clips per side and round, {args.rounds} rounds, handle budget "
              f"{LOADER_OPTIONS['open_shards']}, window {LOADER_OPTIONS['shard_window']}")
        rates = {"shuffle": [], "runs": []}
        opens = {"shuffle": [], "runs": []}
        for epoch in range(args.rounds):
            runs = ShardRuns(videos["shard_path"], LOADER_OPTIONS["shard_window"], seed=0)
            runs.set_epoch(epoch)
            orders = {"shuffle": np.random.default_rng([0, epoch]).permutation(len(videos)), "runs": runs.order()}
            for side in ("shuffle", "runs"):
                seconds, opened = read(videos, orders[side], args.clips)
                rates[side].append(args.clips / seconds)
                opens[side].append(1000 * opened / args.clips)
        ratios = [r / s for r, s in zip(rates["runs"], rates["shuffle"])]
        for side in ("shuffle", "runs"):
            print(f"{side:>8}: {statistics.median(rates[side]):8.0f} clips/s, "
                  f"{statistics.median(opens[side]):6.0f} shard opens per 1,000 clips")
        print(f"runs / shuffle: {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
