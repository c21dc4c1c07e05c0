"""The video index: one row per video with its label, split, shard and what decoding it found."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from zsar.data import video
from zsar.data.video import decoder_message

INDEX_COLUMNS = ["video_id", "path", "label", "split", "shard", "frames", "fps", "height", "width",
                 "decodable", "problem", "bytes", "mtime_ns"]


def probe_video(path: Path, backend: str = video.DEFAULT) -> dict:
    """Frame count, frame rate and size as the backend reads them; a problem string instead of raising."""
    if not path.exists():
        return {"decodable": False, "problem": "missing file"}
    unreadable = not_a_video_file(path)
    if unreadable:
        return {"decodable": False, "problem": unreadable}
    try:
        return {**video.probe(path, backend), "decodable": True, "problem": ""}
    except Exception as error:  # each backend raises its own errors (DECORDError, av.FFmpegError, RuntimeError)
        return {"decodable": False, "problem": f"{backend}: {decoder_message(error, path)}"}


def not_a_video_file(path: Path) -> str | None:
    """Why `path` cannot be a video before any decoder tries it (a folder, an empty file, a text file
    such as a failed download's error page), else None."""
    if path.is_dir():
        return "a folder, not a video file"
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as error:
        return f"cannot be read: {error.strerror}"
    if not head:
        return "empty file (0 bytes): an interrupted download or copy? fetch it again"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\0" not in text and sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(text):
        first = " ".join(text.split())[:40]
        return f"a text file, not a video (it starts {first!r}): a failed download's error page? fetch it again"
    return None


def listed_videos(manifest: dict, root: Path) -> tuple[pd.DataFrame, pd.Series]:
    """The videos a dataset's annotation files list under `root`, with a class of the manifest.

    Returns the table (video_id, path, label, split) and the count of videos per label that is
    not in the manifest's class list (left out: Kinetics-ZSAR reads Kinetics-600's annotations and
    keeps its own 220 classes; elsewhere such labels mean the two disagree). A video listed twice
    is a LayoutError naming the files and lines.
    """
    from zsar.data.layouts import read_layout
    from zsar.data.manifest import class_names

    listed = read_layout(manifest, root)
    known = listed["label"].isin(class_names(manifest))
    return listed[known].reset_index(drop=True), listed.loc[~known, "label"].value_counts()


def assign_shards(annotations: pd.DataFrame, n_shards: int) -> pd.DataFrame:
    """Rows sorted by (label, video_id) and dealt round-robin, so that every shard holds every class."""
    table = annotations.sort_values(["label", "video_id"], kind="stable").reset_index(drop=True)
    return table.assign(shard=np.arange(len(table), dtype=np.int64) % max(1, n_shards))


def file_stamp(path) -> tuple[int, int] | None:
    """(size in bytes, modification time in ns) of a file, or None when it is not there."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def shard_stamps(table: pd.DataFrame, root: Path | None = None) -> dict[int, str]:
    """Per shard, a digest of its videos' paths, labels, splits, sizes and modification times.

    A video overwritten in place, added, removed or relabelled changes its shard's digest only,
    at the cost of one stat per video and no hashing of contents: 580k videos (Kinetics-700) take
    a few seconds on a local disk (benchmarks/dag_scale.py). Serial stats: on a local disk a thread
    pool was 3x slower.
    """
    if "stamp" in table:  # taken already (the DAG's listing)
        stamps = table["stamp"]
    else:
        prefix = os.path.join(str(root), "")
        stamps = [str(file_stamp(prefix + rel)) for rel in table["path"]]
    lines = (table["path"] + "\t" + table["label"] + "\t" + table["split"] + "\t" + stamps + "\n").to_numpy()
    return {int(shard): hashlib.blake2b("".join(lines[rows]).encode(), digest_size=16).hexdigest()
            for shard, rows in sorted(table.groupby("shard").indices.items())}


def stays_inside(rel: str) -> bool:
    """Whether a path relative to the dataset root stays under it as written (no symlink is followed)."""
    parts = PurePosixPath(rel).parts
    return not PurePosixPath(rel).is_absolute() and ".." not in parts


def index_videos(annotations: pd.DataFrame, root: Path, n_shards: int, *, min_frames: int = 1, backend: str = video.DEFAULT,
                 workers: int = 1, shard: int | None = None, progress=None) -> pd.DataFrame:
    """Probe every annotated video under `root` (or those of one `shard`) with `backend` and give each its shard.

    Shards are dealt by `assign_shards`. A video shorter than `min_frames` (one clip) stays usable,
    its clips looping, and says so in `problem`. Paths that leave the dataset root (absolute, or
    with a `..`) are refused; the check reads the path as written, so folders inside the root may
    be symlinks to other disks. Each row records the file's size and modification time as probed
    (`bytes`, `mtime_ns`). `progress(done, total)` is called as videos are probed.
    """
    root = Path(root).resolve()
    table = assign_shards(annotations, n_shards)
    if shard is not None:
        table = table[table["shard"] == shard].reset_index(drop=True)
    paths = [root / rel for rel in table["path"]]
    inside = [stays_inside(rel) for rel in table["path"]]
    to_probe = [path for path, ok in zip(paths, inside) if ok]
    results = []
    # Each probe in a child process: a decoder that crashes or hangs on one file costs that file.
    with video.Isolated(workers) as isolated:
        futures = [isolated.submit(probe_video, path, backend, timeout=video.PROBE_LIMIT) for path in to_probe]
        for future in futures:
            try:
                results.append(isolated.result(future))
            except video.DecodeError as error:
                results.append({"decodable": False, "problem": f"{backend}: {error}"})
            if progress is not None:
                progress(len(results), len(to_probe))
    probed = iter(results)
    rows = []
    for row, path, ok in zip(table.itertuples(index=False), paths, inside):
        probe = next(probed) if ok else {"decodable": False, "problem": f"path leaves the dataset root: {row.path}"}
        if probe["decodable"] and probe["frames"] < min_frames:
            probe["problem"] = f"shorter than one clip: {probe['frames']} < {min_frames} frames (clips loop)"
        stamp = file_stamp(path) if ok else None
        rows.append({"video_id": row.video_id, "path": row.path, "label": row.label, "split": row.split,
                     "shard": row.shard, **probe, "bytes": stamp and stamp[0], "mtime_ns": stamp and stamp[1]})
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    return index.astype({"frames": "Int64", "height": "Int64", "width": "Int64", "fps": "float64",
                         "shard": "int64", "decodable": "bool", "problem": "string", "bytes": "Int64",
                         "mtime_ns": "Int64"})


def count_report(index: pd.DataFrame, expected: int | None) -> str:
    """One line for the log: listed, decodable and expected counts."""
    line = f"{len(index)} videos listed, {int(index['decodable'].sum())} decodable"
    if expected is not None and len(index) != expected:
        line += f"; the manifest expects {expected} (a partial copy? see the problems below)"
    return line
