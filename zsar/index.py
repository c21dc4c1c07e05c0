"""The video index: one row per video with its label, split, shard and what decoding it found."""

from __future__ import annotations

import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

INDEX_COLUMNS = ["video_id", "path", "label", "split", "shard", "frames", "fps", "height", "width",
                 "decodable", "problem"]


def probe_video(path: Path) -> dict:
    """Frame count, frame rate and size as decord reads them; a problem string instead of raising."""
    import decord

    if not path.exists():
        return {"decodable": False, "problem": "missing file"}
    try:
        reader = decord.VideoReader(str(path), num_threads=1)
        frames = len(reader)
        if frames == 0:
            return {"decodable": False, "problem": "zero frames"}
        height, width = reader[0].shape[:2]
        # The last frame is where truncated files fail; reading it proves the whole index is usable.
        reader[frames - 1]
        return {"frames": frames, "fps": float(reader.get_avg_fps()), "height": height, "width": width,
                "decodable": True, "problem": ""}
    except Exception as error:  # decord raises DECORDError and RuntimeError alike
        return {"decodable": False, "problem": f"decord: {decoder_message(error, path)}"}


def decoder_message(error: Exception, path: Path) -> str:
    """decord's message without its clock time, source location and check expression.

    The index and the results must not depend on when or where a video was read.
    """
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    # decord nests messages, each with its own "[12:03:44] src/file.cc:42: " prefix: strip them all.
    text = re.sub(r"\[\d\d:\d\d:\d\d\] \S+:\d+: ", "", text)
    text = re.sub(r"Check failed: .*?\(-?\d+ vs\. -?\d+\) ", "", text)  # "Check failed: f(x) >= 0 (-22 vs. 0) <message>"
    return text.replace(str(path), path.name)[:200]


def index_videos(annotations: pd.DataFrame, root: Path, n_shards: int, *, min_frames: int = 1,
                 workers: int = 1) -> pd.DataFrame:
    """Probe every annotated video under `root` and assign it to one of `n_shards` shards.

    Rows are sorted by (label, video_id) and dealt round-robin, so every shard holds every class.
    A video shorter than `min_frames` (one clip) stays usable, its clips looping, and says so in
    `problem`. Paths that leave the dataset root are refused.
    """
    root = Path(root).resolve()
    table = annotations.sort_values(["label", "video_id"], kind="stable").reset_index(drop=True)
    paths = [(root / rel).resolve() for rel in table["path"]]
    inside = [path.is_relative_to(root) for path in paths]
    to_probe = [path for path, ok in zip(paths, inside) if ok]
    if workers > 1 and len(to_probe) > 1:
        with ProcessPoolExecutor(workers) as pool:
            probed = iter(list(pool.map(probe_video, to_probe, chunksize=32)))
    else:
        probed = iter([probe_video(path) for path in to_probe])
    rows = []
    for position, (row, ok) in enumerate(zip(table.itertuples(index=False), inside)):
        probe = next(probed) if ok else {"decodable": False, "problem": f"path leaves the dataset root: {row.path}"}
        if probe["decodable"] and probe["frames"] < min_frames:
            probe["problem"] = f"shorter than one clip: {probe['frames']} < {min_frames} frames (clips loop)"
        rows.append({"video_id": row.video_id, "path": row.path, "label": row.label,
                     "split": row.split, "shard": position % n_shards, **probe})
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    return index.astype({"frames": "Int64", "height": "Int64", "width": "Int64", "fps": "float64",
                         "shard": "int64", "decodable": "bool", "problem": "string"})


def count_report(index: pd.DataFrame, expected: int | None) -> str:
    """One line for the log: listed, decodable and expected counts."""
    line = f"{len(index)} videos listed, {int(index['decodable'].sum())} decodable"
    if expected is not None and len(index) != expected:
        line += f"; the manifest expects {expected} (a partial copy? see the problems below)"
    return line
