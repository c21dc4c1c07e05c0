"""The benchmarks that must keep running: the whole-feed training benchmark, at tiny size on the CPU."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("decode", ["cpu", "device"])
def test_train_throughput_runs_the_whole_feed_from_1000_shards(decode):
    result = subprocess.run(
        [sys.executable, "benchmarks/train_throughput.py", "--tiny", "--shards", "1000", "--presets", "e2e",
         "--rounds", "2", "--steps", "2", "--batch", "2", "--threads", "2", "--decode", decode],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert "cache: 1000 shards" in out, out
    # preset, frames x crop, cache and memory clips/s, ratio (min-max), GFLOP/clip, TFLOP/s, loader cores
    row = re.search(r"^e2e\s+4 x 28\s+(\S+)\s+(\S+)\s+(\S+) \((\S+)-(\S+)\)\s+(\S+)\s+\S+, \S+\s+(\S+)$", out, re.M)
    assert row, out
    cache, memory, ratio, low, high, gflop, cores = map(float, row.groups())
    assert cache > 0 and memory > 0 and gflop > 0, out
    assert 0 < low <= ratio <= high, out
    assert math.isfinite(cores), out
