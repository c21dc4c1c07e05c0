"""Benchmark (issue 5b): training clips per second read from the HDF5 clip cache, against decoding
each clip with decord on the fly; 2 DataLoader workers each, the E2E sampling (16 frames, stride 1,
112 crop from a 128-pixel short side). Target: ratio at least 5.

    .venv/bin/python benchmarks/cache_vs_decord.py [n_videos]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import decord
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from videos import write  # noqa: E402

from zsar import sampling  # noqa: E402
from zsar.clips import TrainClips, decode_shard, shard_videos  # noqa: E402
from zsar.index import index_videos  # noqa: E402

LENGTH, STRIDE, CROP, SHORT_SIDE, BATCH, WORKERS, EPOCHS = 16, 1, 112, 128, 8, 2, 3


class DecordClips(Dataset):
    """The same samples as TrainClips, decoded from the video file every time."""

    def __init__(self, paths, seed=0):
        self.paths, self.seed, self.epoch = paths, seed, 0

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, self.epoch, i])
        reader = decord.VideoReader(str(self.paths[i]), width=171, height=128, num_threads=1)
        start = sampling.random_clip_start(len(reader), LENGTH, STRIDE, rng)
        clip = reader.get_batch(sampling.clip_indices(start, LENGTH, STRIDE, len(reader)).tolist()).asnumpy()
        clip = sampling.random_crop_flip(clip, CROP, rng)
        return sampling.to_model_input(torch.from_numpy(np.ascontiguousarray(clip))), 0


def clips_per_second(dataset) -> float:
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=WORKERS, persistent_workers=True)
    next(iter(loader))  # start the workers before timing
    count, start = 0, time.perf_counter()
    for epoch in range(EPOCHS):
        dataset.epoch = epoch
        for clips, _ in loader:
            count += len(clips)
    return count / (time.perf_counter() - start)


def main(n_videos: int = 24) -> None:
    root = Path(tempfile.mkdtemp())
    first = write(root / "videos/v000.mp4", "h264")
    paths = [first] + [root / f"videos/v{k:03d}.mp4" for k in range(1, n_videos)]
    for path in paths[1:]:
        path.write_bytes(first.read_bytes())  # same content: decoding cost is what is measured
    table = pd.DataFrame({"video_id": [p.stem for p in paths], "path": [f"videos/{p.name}" for p in paths],
                          "label": "x", "split": "train"})
    index = index_videos(table, root, n_shards=1)
    decode_shard(index, root, 0, root / "clips/0.h5", SHORT_SIDE, log=lambda m: None)
    cache_bytes = (root / "clips/0.h5").stat().st_size / n_videos
    cached = TrainClips(shard_videos([root / "clips/0.h5"]), {"x": 0}, length=LENGTH, stride=STRIDE, crop=CROP, seed=0)
    from_cache = clips_per_second(cached)
    on_the_fly = clips_per_second(DecordClips(paths))
    print(f"{n_videos} videos of 10 s, 320x240 H.264; {EPOCHS} epochs; batch {BATCH}; {WORKERS} workers")
    print(f"clip cache (HDF5, lzf):   {from_cache:8.1f} clips/s")
    print(f"decord on the fly:        {on_the_fly:8.1f} clips/s")
    print(f"ratio cache / decord:     {from_cache / on_the_fly:8.2f}   (target >= 5)")
    print(f"cache size: {cache_bytes / 1e6:.1f} MB per video (250 frames at 171x128; "
          f"{cache_bytes / 250 / (171 * 128 * 3):.2f} of the raw bytes)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
