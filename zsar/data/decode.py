"""The decode stage (rule decode_clips): a shard of videos decoded, resized and written to the clip
cache (zsar.data.cache holds the cache format itself; zsar.data.clips reads clips back from it).

Its own module, apart from the clip datasets: the decode stage's code, and so its rerun trigger,
stays as it is when the training side changes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zsar.data import sampling
from zsar.data.cache import ShardWriter
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
