"""The clip datasets that training and extraction read from the clip cache (zsar.data.decode writes
it; zsar.data.cache holds its format), and the order in which an epoch reads it.

Both datasets return uint8 frames already cropped (so that clips of videos of any aspect ratio
batch together, and only the cropped pixels travel); flipping, scaling and normalising happen on
the model's device, batched (`sampling.to_model_input`).
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from zsar.data import sampling
from zsar.data.cache import Shards
from zsar.data.jpeg import collate, read_encoded


class TrainClips:
    """One random clip per video per epoch, randomly cropped: a dict of the clip, `flip` and the label
    index, plus the video's inputs of `video_side` (zsar.methods.spec.VideoSide) when given.

    The clip is (T, crop, crop, 3) uint8; `flip` says whether the model's device should flip it
    left-right (`sampling.to_model_input`). Only the clip's frames are decoded. With `encoded`, the
    clip's frames are not decoded at all: `jpeg` holds them as the cache stores them, `box` and
    `crop` where to crop them, for zsar.data.jpeg to decode on the model's device (its `collate`
    batches them).
    """

    def __init__(self, videos: pd.DataFrame, label_index: dict[str, int], *, length: int, stride: int,
                 crop: int, seed: int, max_open: int = 32, video_side=None, encoded: bool = False):
        self.video_side, self.encoded = video_side, encoded
        self.videos = videos.reset_index(drop=True)
        self.targets = [label_index[label] for label in self.videos["label"]]
        self.length, self.stride, self.crop, self.seed = length, stride, crop, seed
        self.epoch = 0
        self.max_open = max_open
        self._local = threading.local()

    @property
    def _shards(self) -> Shards:
        """This thread's open shards: decoding threads (ThreadFeed) share no HDF5 handle or LRU."""
        shards = getattr(self._local, "shards", None)
        if shards is None:
            shards = self._local.shards = Shards(self.max_open)
        return shards

    def __getstate__(self):  # a loader process starts with no open shard
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

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
        indices = sampling.clip_indices(start, self.length, self.stride, video.n_frames)
        sample = {"flip": flip, "label": self.targets[i], **_side(self.video_side, row["video_id"])}
        if self.encoded:
            return {"jpeg": read_encoded(video, indices), "box": np.array([top, left]), "crop": self.crop, **sample}
        frames = video.read(indices)
        clip = np.ascontiguousarray(frames[:, top:top + self.crop, left:left + self.crop])
        return {"clips": torch.from_numpy(clip), **sample}


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


class ThreadFeed:
    """Batches of a clip dataset decoded by `threads` threads of the training process: the JPEG
    decoder releases the GIL, and no decoded pixel crosses a process boundary (with loader
    processes, the 2-10 MB of a decoded batch are copied between processes, which capped the feed
    of an H200 at 0.30-0.46 of its in-memory speed; docs/benchmarks.md).

    The order is a DataLoader's over the indices with the same sampler, shuffle and generator, so
    the batches are exactly those a DataLoader without workers gives; `prefetch` batches are
    decoded ahead while the step runs. `generator` is the loader's, for a checkpoint to save.
    """

    def __init__(self, dataset, *, batch_size: int, threads: int, sampler=None, generator=None,
                 pin_memory: bool = False, prefetch: int = 2):
        from torch.utils.data import DataLoader

        self.dataset, self.threads, self.pin_memory, self.prefetch = dataset, threads, pin_memory, max(1, prefetch)
        self.generator = generator
        self._indices = DataLoader(range(len(dataset)), batch_size=batch_size, shuffle=sampler is None,
                                   sampler=sampler, generator=generator, collate_fn=list)

    def __len__(self) -> int:
        return len(self._indices)

    def __iter__(self):
        with ThreadPoolExecutor(self.threads, thread_name_prefix="decode") as pool:
            pending = deque()
            for indices in self._indices:
                pending.append([pool.submit(self.dataset.__getitem__, i) for i in indices])
                if len(pending) > self.prefetch:
                    yield self._batch(pending.popleft())
            while pending:
                yield self._batch(pending.popleft())

    def _batch(self, futures) -> dict:
        batch = collate([future.result() for future in futures])
        return {k: v.pin_memory() for k, v in batch.items()} if self.pin_memory else batch


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
