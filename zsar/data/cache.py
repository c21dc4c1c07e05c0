"""The clip cache format: each video's resized frames, encoded one by one, in sharded HDF5 files.

This module is the only code that knows the layout: `ShardWriter` writes a shard, `Shards` reads
frames from any number of shards, `cached_videos` lists what shards hold. Nothing else opens a
clip-cache file.

Format version 2 (`FORMAT_VERSION`). The root group's attributes:
    format = "zsar-clips", version = 2, short_side, codec ("jpeg" or "raw"),
    quality (jpeg: libjpeg-turbo quality, 4:2:0 chroma), compression (raw: "blosc-lz4" or "lzf")
Datasets:
    video_id, label            (n,) str: the cached videos, in writing order
    n_frames, height, width    (n,) int32
    offset_start               (n + 1,) int64: video i's offsets are offsets[offset_start[i]:offset_start[i + 1]]
    offsets                    (sum of n_frames + 1,) int64 (jpeg only): frame k of video i is the bytes
                               frames/<video_id>[o[k]:o[k + 1]] with o = that video's offsets
    frames/<video_id>          jpeg: (bytes,) uint8, the video's frames as JPEG files back to back;
                               raw: (n_frames, height, width, 3) uint8, one compressed chunk per frame
    failed, failed_reason      (m,) str: videos the decoder could not read, and why

So reading one frame touches that frame's bytes only, whatever the codec. JPEG at quality 90 is
~7x smaller than raw frames (benchmarks/cache_formats.py); "raw" keeps frames bit-exact.

A file of another format version (the version-1 cache stored raw frames with lzf and no version)
is refused with a message to rebuild it: never read with the wrong layout.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import h5py
import hdf5plugin  # registers the Blosc filter with HDF5
import numpy as np
import pandas as pd

from zsar.io import ArtefactError, open_h5
from zsar.zeroshot.features import STRING

FORMAT = "zsar-clips"
FORMAT_VERSION = 2
CODECS = ("jpeg", "raw")
COMPRESSIONS = ("blosc-lz4", "lzf")


class CacheFormatError(ArtefactError):
    """A clip-cache file written by another version of zsar (or not a clip cache at all)."""


def codec_settings(settings: dict) -> dict:
    """The decode settings that determine how frames are stored: codec and quality or compression."""
    codec = settings.get("codec", "jpeg")
    if codec not in CODECS:
        raise ValueError(f"decode.codec must be one of {', '.join(CODECS)}, not {codec!r}")
    if codec == "jpeg":
        return {"codec": "jpeg", "quality": int(settings.get("quality", 90))}
    compression = settings.get("compression", "blosc-lz4")
    if compression not in COMPRESSIONS:
        raise ValueError(f"decode.compression must be one of {', '.join(COMPRESSIONS)}, not {compression!r}")
    return {"codec": "raw", "compression": compression}


def stored_frames(settings: dict) -> str:
    """What a reader gets back, as opposed to how it is stored: raw frames are the same frames
    whatever their compression; JPEG frames depend on the quality. Training depends on this."""
    codec = codec_settings(settings)
    return f"jpeg-q{codec['quality']}" if codec["codec"] == "jpeg" else "raw"


class ShardWriter:
    """Writes one shard: `add(video_id, label, frames)` per video, `fail(video_id, reason)` per failure.

    Use as a context manager on a path (an `atomic_output` temporary, normally).
    """

    def __init__(self, path, *, short_side: int, codec: str = "jpeg", quality: int = 90,
                 compression: str = "blosc-lz4"):
        self.settings = codec_settings({"codec": codec, "quality": quality, "compression": compression})
        self.path, self.short_side = path, short_side
        self.ids, self.labels, self.n_frames, self.heights, self.widths = [], [], [], [], []
        self.offsets, self.failed, self.reasons = [], [], []

    def __enter__(self):
        self.file = h5py.File(self.path, "w")
        self.group = self.file.create_group("frames")
        return self

    def add(self, video_id: str, label: str, frames: np.ndarray) -> None:
        """frames: (T, H, W, 3) uint8 RGB."""
        t, h, w, _ = frames.shape
        if self.settings["codec"] == "jpeg":
            import simplejpeg

            encoded = [simplejpeg.encode_jpeg(np.ascontiguousarray(frame), quality=self.settings["quality"],
                                              colorspace="RGB", colorsubsampling="420") for frame in frames]
            self.offsets.append(np.concatenate([[0], np.cumsum([len(e) for e in encoded])]).astype(np.int64))
            # Contiguous (not chunked): a frame's bytes are one read at a known position.
            self.group.create_dataset(video_id, data=np.frombuffer(b"".join(encoded), dtype=np.uint8))
        else:
            compression = (hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE)
                           if self.settings["compression"] == "blosc-lz4" else {"compression": "lzf"})
            self.group.create_dataset(video_id, data=frames, chunks=(1, h, w, 3), **compression)
        self.ids.append(video_id)
        self.labels.append(label)
        self.n_frames.append(t)
        self.heights.append(h)
        self.widths.append(w)

    def fail(self, video_id: str, reason: str) -> None:
        self.failed.append(video_id)
        self.reasons.append(reason)

    def __exit__(self, *exc):
        f = self.file
        try:
            if exc[0] is None:
                for name, values in (("video_id", self.ids), ("label", self.labels), ("failed", self.failed),
                                     ("failed_reason", self.reasons)):
                    f.create_dataset(name, data=np.array(values, dtype=object), dtype=STRING)
                for name, values in (("n_frames", self.n_frames), ("height", self.heights), ("width", self.widths)):
                    f.create_dataset(name, data=np.array(values, dtype=np.int32))
                if self.settings["codec"] == "jpeg":
                    f.create_dataset("offsets", data=np.concatenate(self.offsets) if self.offsets
                                     else np.zeros(0, np.int64))
                f.create_dataset("offset_start", data=np.concatenate(
                    [[0], np.cumsum(np.array(self.n_frames, dtype=np.int64) + 1)]).astype(np.int64))
                f.attrs.update({"format": FORMAT, "version": FORMAT_VERSION, "short_side": self.short_side,
                                **self.settings})
        finally:
            f.close()
        return False


def open_shard(path) -> h5py.File:
    """A clip-cache shard opened for reading, after checking that this zsar reads its format."""
    f = open_h5(path)
    version = f.attrs.get("version")
    if f.attrs.get("format") != FORMAT or version != FORMAT_VERSION:
        f.close()
        found = f"format version {version}" if version is not None else "an older format (version 1: raw frames)"
        raise CacheFormatError(
            f"{path} is a clip cache in {found}; this zsar reads version {FORMAT_VERSION}. "
            f"Delete {Path(path).parent}/ and run snakemake again to rebuild it (snakemake also "
            "rebuilds it by itself: the format version is a parameter of decode_clips).")
    return f


def cached_videos(paths) -> pd.DataFrame:
    """shard_path, video_id, label and n_frames of every video the shards hold, in order."""
    tables = []
    for path in paths:
        with open_shard(path) as f:
            tables.append(pd.DataFrame({"shard_path": str(path), "video_id": f["video_id"].asstr()[:],
                                        "label": f["label"].asstr()[:], "n_frames": f["n_frames"][:]}))
    if not tables:
        return pd.DataFrame(columns=["shard_path", "video_id", "label", "n_frames"])
    return pd.concat(tables, ignore_index=True)


def failed_videos(path) -> list[tuple[str, str]]:
    """(video_id, reason) of each video a shard's decoder could not read."""
    with open_shard(path) as f:
        return list(zip(f["failed"].asstr()[:], f["failed_reason"].asstr()[:]))


class DamagedCache(ValueError):
    """A cached frame that cannot be read back: the message names the shard, the video and the frame."""


class _Shard:
    def __init__(self, path):
        self.path = str(path)
        self.file = open_shard(path)
        self.codec = self.file.attrs["codec"]
        self.row = {vid: i for i, vid in enumerate(self.file["video_id"].asstr()[:])}
        self.n_frames = self.file["n_frames"][:]
        self.height, self.width = self.file["height"][:], self.file["width"][:]
        self.offset_start = self.file["offset_start"][:]


class CachedVideo:
    """One cached video: its size, and `read(indices)` decoding only those frames."""

    def __init__(self, shard: _Shard, video_id: str):
        self._shard, i = shard, shard.row[video_id]
        self.video_id = video_id
        self._i, self._data = i, shard.file["frames"][video_id]
        self.n_frames, self.height, self.width = int(shard.n_frames[i]), int(shard.height[i]), int(shard.width[i])

    def read(self, indices) -> np.ndarray:
        """Frames `indices` (any order, repeats allowed) as (len(indices), H, W, 3) uint8."""
        indices = np.asarray(indices, dtype=np.int64)
        wanted = np.unique(indices)
        if len(wanted) and (wanted[0] < 0 or wanted[-1] >= self.n_frames):
            raise IndexError(f"frames {wanted[0]}..{wanted[-1]} of a {self.n_frames}-frame video")
        try:
            decoded = self._read_jpeg(wanted) if self._shard.codec == "jpeg" else self._read_raw(wanted)
        except DamagedCache:
            raise
        except (OSError, ValueError, RuntimeError) as error:  # an HDF5 chunk that does not read back
            raise self._damaged(f"frames {wanted[0]}..{wanted[-1]}", error) from None
        if len(wanted) == len(indices) and np.array_equal(wanted, indices):
            return decoded  # in order, no repeats: no gather (a clip of 16 frames at 224 is 2-4 MB)
        return decoded[np.searchsorted(wanted, indices)]

    def _damaged(self, which: str, error: Exception) -> DamagedCache:
        return DamagedCache(
            f"{self._shard.path}: {which} of video {self.video_id} cannot be read back ({error}). The "
            f"cache shard is damaged (a disk or copy error): delete {self._shard.path} and run snakemake "
            f"again; it is decoded anew from the video, and no model retrains for it.")

    def _read_raw(self, wanted: np.ndarray) -> np.ndarray:
        out = np.empty((len(wanted), self.height, self.width, 3), dtype=np.uint8)
        for start, stop, at in _runs(wanted):
            self._data.read_direct(out, np.s_[start:stop], np.s_[at:at + stop - start])
        return out

    def _read_jpeg(self, wanted: np.ndarray) -> np.ndarray:
        import simplejpeg

        out = np.empty((len(wanted), self.height, self.width, 3), dtype=np.uint8)
        if not len(wanted):
            return out
        base, first = int(self._shard.offset_start[self._i]), int(wanted[0])
        offsets = self._shard.file["offsets"][base + first: base + int(wanted[-1]) + 2]  # byte positions
        at = wanted - first
        if len(offsets) - 1 <= 2 * len(wanted):
            # Few frames skipped (stride 1-2): one read of the whole span beats one read per frame.
            data, offsets = self._data[offsets[0]:offsets[-1]], offsets - offsets[0]
            frames = ((k, j, data[offsets[j]:offsets[j + 1]]) for k, j in enumerate(at))
        else:
            frames = ((k, j, self._data[offsets[j]:offsets[j + 1]]) for k, j in enumerate(at))
        for k, j, encoded in frames:
            try:
                simplejpeg.decode_jpeg(encoded, colorspace="RGB", buffer=out[k])
            except ValueError as error:  # a JPEG that does not decode
                raise self._damaged(f"frame {first + int(j)}", error) from None
        return out


def _runs(sorted_indices: np.ndarray):
    """(start, stop, position in the input) of each run of consecutive indices."""
    if not len(sorted_indices):
        return
    breaks = np.flatnonzero(np.diff(sorted_indices) != 1) + 1
    for at, run in zip(np.concatenate([[0], breaks]), np.split(sorted_indices, breaks)):
        yield int(run[0]), int(run[-1]) + 1, int(at)


class Shards:
    """Cached videos from any number of shards, with at most `max_open` files open at once.

    Files are opened lazily and the least recently used is closed past `max_open`, so a process
    reading Kinetics-700's ~1,200 shards stays well under the usual limit of 1,024 open files.
    One instance per process: a DataLoader worker gets its own, empty, copy.
    """

    def __init__(self, max_open: int = 32):
        self.max_open = max_open
        self._open: OrderedDict[str, _Shard] = OrderedDict()

    def video(self, shard_path: str, video_id: str) -> CachedVideo:
        shard = self._open.get(shard_path)
        if shard is None:
            shard = self._open[shard_path] = _Shard(shard_path)
            while len(self._open) > self.max_open:
                self._open.popitem(last=False)[1].file.close()
        else:
            self._open.move_to_end(shard_path)
        return CachedVideo(shard, video_id)

    def n_open(self) -> int:
        return len(self._open)

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].file.close()

    def __getstate__(self):
        return {"max_open": self.max_open, "_open": OrderedDict()}
