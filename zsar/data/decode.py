"""The decode stage (rule decode_clips): a shard of videos decoded, resized and written to the clip
cache (zsar.data.cache holds the cache format itself; zsar.data.clips reads clips back from it;
zsar.data.video the decoders).

Its own module, apart from the clip datasets: the decode stage's code, and so its rerun trigger,
stays as it is when the training side changes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from zsar.data import sampling, video
from zsar.data.cache import ShardWriter
from zsar.io import atomic_output


def decode_shard(index: pd.DataFrame, root: Path, shard: int, out_path, short_side: int, *, backend: str = video.DEFAULT,
                 codec: str = "jpeg", quality: int = 90, compression: str = "blosc-lz4", log=print, progress=None,
                 decode=video.decode) -> dict:
    """Decode every decodable video of one shard into the cache; return counts for the log.

    Each video decodes in a child process (video.Isolated): a decoder that fails, crashes or hangs on
    one video costs that video, recorded in the shard with its reason, and the shard goes on.
    `progress(done, total)` is called after each video.
    """
    videos = index[(index["shard"] == shard) & index["decodable"]]
    decoded = failed = 0
    with (atomic_output(out_path) as tmp,
          ShardWriter(tmp, short_side=short_side, codec=codec, quality=quality, compression=compression) as writer,
          video.Isolated() as isolated):
        for done, row in enumerate(videos.itertuples(index=False), 1):
            height, width = sampling.resized_shape(int(row.height), int(row.width), short_side)
            path = Path(root) / row.path
            try:
                frames = isolated.call(decode, path, backend, height, width, int(row.frames),
                                       timeout=video.time_limit(row.frames, row.fps))
            except Exception as error:  # a video the index could open but not decode in full
                reason = f"{backend}: {video.decoder_message(error, path)}"
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
