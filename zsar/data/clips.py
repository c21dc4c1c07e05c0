"""From videos to clips: decoding a shard of videos into the cache, and the clip datasets that
training and extraction read from it (zsar.data.cache holds the cache format itself).

Both datasets return uint8 frames already cropped (so that clips of videos of any aspect ratio
batch together, and only the cropped pixels travel); flipping, scaling and normalising happen on
the model's device, batched (`sampling.to_model_input`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zsar.data import sampling
from zsar.data.cache import Shards, ShardWriter
from zsar.data.index import decoder_message
from zsar.io import atomic_output


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


def decode_shard(index: pd.DataFrame, root: Path, shard: int, out_path, short_side: int, *, codec: str = "jpeg",
                 quality: int = 90, compression: str = "blosc-lz4", log=print, progress=None) -> dict:
    """Decode every decodable video of one shard into the cache; return counts for the log.

    `progress(done, total)` is called after each video.
    """
    videos = index[(index["shard"] == shard) & index["decodable"]]
    decoded = failed = 0
    with atomic_output(out_path) as tmp, ShardWriter(tmp, short_side=short_side, codec=codec, quality=quality,
                                                     compression=compression) as writer:
        for done, row in enumerate(videos.itertuples(index=False), 1):
            height, width = sampling.resized_shape(int(row.height), int(row.width), short_side)
            try:
                frames = decode_video(Path(root) / row.path, height, width)
            except Exception as error:  # a video the index could open but not decode in full
                reason = f"decord: {decoder_message(error, Path(root) / row.path)}"
                writer.fail(row.video_id, reason)
                failed += 1
                log(f"could not decode {row.path}: {reason}")
            else:
                writer.add(row.video_id, row.label, frames)
                decoded += 1
            if progress is not None:
                progress(done, len(videos))
    return {"decoded": decoded, "failed": failed,
            "skipped_undecodable": int(((index["shard"] == shard) & ~index["decodable"]).sum())}


class TrainClips:
    """One random clip per video per epoch, randomly cropped: a dict of the clip, `flip` and the label
    index, plus the video's inputs of `video_side` (zsar.methods.spec.VideoSide) when given.

    The clip is (T, crop, crop, 3) uint8; `flip` says whether the model's device should flip it
    left-right (`sampling.to_model_input`). Only the clip's frames are decoded.
    """

    def __init__(self, videos: pd.DataFrame, label_index: dict[str, int], *, length: int, stride: int,
                 crop: int, seed: int, max_open: int = 32, video_side=None):
        self.video_side = video_side
        self.videos = videos.reset_index(drop=True)
        self.targets = [label_index[label] for label in self.videos["label"]]
        self.length, self.stride, self.crop, self.seed = length, stride, crop, seed
        self.epoch = 0
        self._shards = Shards(max_open)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i) -> dict:
        import torch

        row = self.videos.iloc[i]
        rng = np.random.default_rng([self.seed, self.epoch, i])  # same draws whatever the worker count
        video = self._shards.video(row["shard_path"], row["video_id"])
        start = sampling.random_clip_start(video.n_frames, self.length, self.stride, rng)
        top, left, flip = sampling.random_crop_box(video.height, video.width, self.crop, rng)
        frames = video.read(sampling.clip_indices(start, self.length, self.stride, video.n_frames))
        clip = np.ascontiguousarray(frames[:, top:top + self.crop, left:left + self.crop])
        return {"clips": torch.from_numpy(clip), "flip": flip, "label": self.targets[i],
                **_side(self.video_side, row["video_id"])}


class ShardRuns:
    """An epoch's order of videos that reads the clip cache in runs of shards: the shards shuffled,
    cut into windows of `window` shards, and the videos of each window shuffled. Each loader process
    then opens each shard about once per epoch (with a handle budget of at least `window`) instead of
    nearly once per clip, as a plain shuffle over Kinetics-700's ~1,200 shards would.

    Seeded by (seed, epoch): the same order whatever the worker count, and again after a resume.
    With `world` > 1 processes, rank r takes every world-th video of the order, the order padded with
    its first videos to a multiple of `world` (as DistributedSampler pads).
    """

    def __init__(self, shard_of, window: int, seed: int, rank: int = 0, world: int = 1):
        codes, shards = pd.factorize(pd.Series(list(shard_of)))
        self.members = [np.flatnonzero(codes == k) for k in range(len(shards))]
        self.n, self.window, self.seed, self.rank, self.world = len(codes), max(1, window), seed, rank, world
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def order(self) -> np.ndarray:
        """This epoch's whole order (before the ranks take their shares)."""
        rng = np.random.default_rng([self.seed, self.epoch])
        shards = rng.permutation(len(self.members))
        runs = [rng.permutation(np.concatenate([self.members[k] for k in shards[start:start + self.window]]))
                for start in range(0, len(shards), self.window)]
        order = np.concatenate(runs) if runs else np.zeros(0, np.int64)
        padding = -len(order) % self.world
        return np.concatenate([order, order[:padding]])

    def __iter__(self):
        return iter(self.order()[self.rank::self.world].tolist())

    def __len__(self) -> int:
        return -(-self.n // self.world)


class TestClips:
    """All `n_clips` uniformly spaced, centre-cropped clips of a video: a dict of the clips,
    (n_clips, T, crop, crop, 3) uint8, plus the video's inputs of `video_side` when given."""

    def __init__(self, videos: pd.DataFrame, *, length: int, stride: int, crop: int, n_clips: int,
                 max_open: int = 32, video_side=None):
        self.video_side = video_side
        self.videos = videos.reset_index(drop=True)
        self.length, self.stride, self.crop, self.n_clips = length, stride, crop, n_clips
        self._shards = Shards(max_open)

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i) -> dict:
        import torch

        row = self.videos.iloc[i]
        video = self._shards.video(row["shard_path"], row["video_id"])
        starts = sampling.uniform_clip_starts(video.n_frames, self.length, self.stride, self.n_clips)
        indices = np.stack([sampling.clip_indices(s, self.length, self.stride, video.n_frames) for s in starts])
        frames = video.read(indices.ravel()).reshape(*indices.shape, video.height, video.width, 3)
        clips = torch.from_numpy(np.ascontiguousarray(sampling.center_crop(frames, self.crop)))
        return {"clips": clips, **_side(self.video_side, row["video_id"])}


def _side(video_side, video_id) -> dict:
    return {} if video_side is None else video_side.of(video_id)
