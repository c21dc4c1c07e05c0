"""The clip cache: decoded, resized frames in sharded HDF5, read by training and extraction.

One file per shard: `frames/<video_id>` holds a video's frames (T, H, W, 3) uint8 resized to
the configured short side; `video_id` and `label` list the videos in order; `failed` and
`failed_reason` list the videos the decoder could not read (reported, never silently dropped).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from zsar import sampling
from zsar.features import STRING
from zsar.index import decoder_message
from zsar.io import atomic_output, open_h5


def read_frames(reader, indices, chunk: int = 16) -> np.ndarray:
    """Frames `indices` of a decord VideoReader as one (n, H, W, 3) uint8 array.

    Read `chunk` frames per call: one get_batch over a whole 10-second video was 20-40% slower
    than chunks of 16 (benchmarks/decode_test_clips.py), the cost of one large output buffer.
    """
    indices = list(indices)
    first = reader.get_batch(indices[:chunk]).asnumpy()
    out = np.empty((len(indices), *first.shape[1:]), dtype=np.uint8)
    out[: len(first)] = first
    for start in range(chunk, len(indices), chunk):
        out[start:start + chunk] = reader.get_batch(indices[start:start + chunk]).asnumpy()
    return out


def decode_video(path: Path, height: int, width: int) -> np.ndarray:
    """All frames of a video at (height, width), uint8 RGB.

    decord scales inside the decoder, 2-3x faster than decoding at full size and resizing after.
    Its scaler rejects some small sizes ("size must exactly match"); those videos are decoded at
    native size and resized with torch (antialiased bilinear).
    """
    import decord

    try:
        reader = decord.VideoReader(str(path), width=width, height=height, num_threads=1)
        return read_frames(reader, range(len(reader)))
    except decord.DECORDError as error:
        if "size must exactly match" not in str(error):
            raise
    reader = decord.VideoReader(str(path), num_threads=1)
    return sampling.resize_frames(read_frames(reader, range(len(reader))), height, width)


def decode_shard(index: pd.DataFrame, root: Path, shard: int, out_path, short_side: int, log=print) -> dict:
    """Decode every decodable video of one shard into the cache; return counts for the log."""
    videos = index[(index["shard"] == shard) & index["decodable"]]
    ids, labels, failed, reasons = [], [], [], []
    with atomic_output(out_path) as tmp, h5py.File(tmp, "w") as f:
        group = f.create_group("frames")
        for row in videos.itertuples(index=False):
            height, width = sampling.resized_shape(int(row.height), int(row.width), short_side)
            try:
                frames = decode_video(Path(root) / row.path, height, width)
            except Exception as error:  # a video the index could open but not decode in full
                failed.append(row.video_id)
                reasons.append(f"decord: {decoder_message(error, Path(root) / row.path)}")
                log(f"could not decode {row.path}: {reasons[-1]}")
                continue
            group.create_dataset(row.video_id, data=frames, chunks=(1, *frames.shape[1:]),
                                 compression="lzf")
            ids.append(row.video_id)
            labels.append(row.label)
        f.create_dataset("video_id", data=np.array(ids, dtype=object), dtype=STRING)
        f.create_dataset("label", data=np.array(labels, dtype=object), dtype=STRING)
        f.create_dataset("failed", data=np.array(failed, dtype=object), dtype=STRING)
        f.create_dataset("failed_reason", data=np.array(reasons, dtype=object), dtype=STRING)
        f.attrs["short_side"] = short_side
    return {"decoded": len(ids), "failed": len(failed),
            "skipped_undecodable": int(((index["shard"] == shard) & ~index["decodable"]).sum())}


def shard_videos(paths) -> pd.DataFrame:
    """video_id, label and shard path of every video in a set of cache shards."""
    rows = []
    for path in paths:
        with open_h5(path) as f:
            for vid, label in zip(f["video_id"].asstr()[:], f["label"].asstr()[:]):
                rows.append((str(path), vid, label))
    return pd.DataFrame(rows, columns=["shard_path", "video_id", "label"])


class _Shards:
    """Lazily opened HDF5 handles, one set per process (safe with DataLoader workers)."""

    def __init__(self):
        self._files = {}

    def frames(self, shard_path: str, video_id: str) -> h5py.Dataset:
        if shard_path not in self._files:
            self._files[shard_path] = open_h5(shard_path)
        return self._files[shard_path]["frames"][video_id]

    def __getstate__(self):
        return {"_files": {}}


def _read_clip(dataset: h5py.Dataset, start: int, length: int, stride: int) -> np.ndarray:
    span = sampling.clip_span(length, stride)
    if start + span <= dataset.shape[0]:  # the clip fits: let HDF5 read just the strided slice
        return dataset[start:start + span:stride]
    return dataset[:][sampling.clip_indices(start, length, stride, dataset.shape[0])]


class TrainClips:
    """One random clip per video per epoch, randomly cropped and flipped; returns (clip, label index)."""

    def __init__(self, videos: pd.DataFrame, label_index: dict[str, int], *, length: int, stride: int,
                 crop: int, seed: int):
        self.videos = videos.reset_index(drop=True)
        self.targets = [label_index[label] for label in self.videos["label"]]
        self.length, self.stride, self.crop, self.seed = length, stride, crop, seed
        self.epoch = 0
        self._shards = _Shards()

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i):
        row = self.videos.iloc[i]
        rng = np.random.default_rng([self.seed, self.epoch, i])  # same draws whatever the worker count
        frames = self._shards.frames(row["shard_path"], row["video_id"])
        start = sampling.random_clip_start(frames.shape[0], self.length, self.stride, rng)
        clip = sampling.random_crop_flip(_read_clip(frames, start, self.length, self.stride), self.crop, rng)
        return sampling.to_model_input(clip), self.targets[i]


class TestClips:
    """All `n_clips` uniformly spaced, centre-cropped clips of a video: (n_clips, 3, T, crop, crop)."""

    def __init__(self, videos: pd.DataFrame, *, length: int, stride: int, crop: int, n_clips: int):
        self.videos = videos.reset_index(drop=True)
        self.length, self.stride, self.crop, self.n_clips = length, stride, crop, n_clips
        self._shards = _Shards()

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i):
        row = self.videos.iloc[i]
        frames = self._shards.frames(row["shard_path"], row["video_id"])[:]
        starts = sampling.uniform_clip_starts(frames.shape[0], self.length, self.stride, self.n_clips)
        clips = np.stack([frames[sampling.clip_indices(s, self.length, self.stride, frames.shape[0])]
                          for s in starts])
        return sampling.to_model_input(sampling.center_crop(clips, self.crop))
