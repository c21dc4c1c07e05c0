"""The listing (rule list_videos): every video a dataset's annotation files list, with its size and
time on disk, written once so that building the DAG reads it instead of the videos.

Its own module, apart from the index's probing: the stages that probe and decode videos keep their
code (and so their rerun trigger) when the listing changes.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path

import pandas as pd

from zsar.data.folders import is_folder, read_folder
from zsar.data.index import file_stamp, listed_videos


def table_digest(table: pd.DataFrame, columns) -> str:
    """A digest of a table's rows, by the given (string) columns, in the table's order."""
    lines = table[columns[0]].str.cat([table[c] for c in columns[1:]], sep="\t")
    return hashlib.blake2b("\n".join(lines).encode(), digest_size=16).hexdigest()


def take_listing(manifest: dict, root: Path) -> tuple[pd.DataFrame, pd.Series]:
    """The listing (rule list_videos): `listed_videos` with each file's (size, time) as `stamp` and
    whether it is on disk (`present`), and the unknown labels' counts.

    One stat per video: Kinetics-700's 580k take seconds on a local disk, minutes on a network file
    system. This is the one place that stats them; the DAG reads the listing it writes.
    """
    if is_folder(manifest):  # unlabelled videos to predict classes for: every video file under root
        listed, unknown = read_folder(manifest, root), pd.Series(dtype=int)
    else:
        listed, unknown = listed_videos(manifest, root)
    prefix = os.path.join(str(root), "")
    stamps = [file_stamp(prefix + rel) for rel in listed["path"]]
    return listed.assign(stamp=[str(s) for s in stamps], present=[s is not None for s in stamps]), unknown


def folder_stamps(root, depth: int = 2) -> str:
    """A digest of the modification times of the dataset root and the folders up to `depth` below it,
    listed without a stat of any file: every official layout keeps its videos there (Kinetics'
    train/<label>/, UCF101's UCF-101/<class>/, ActivityNet's videos/), so a video added, removed or
    renamed changes one of these times, and a video overwritten in place under its name does not."""
    stamps, level = [], [("", str(root))]
    for below in range(depth + 1):
        deeper = []
        for rel, folder in level:
            try:
                stamps.append(f"{rel}\t{os.stat(folder).st_mtime_ns}")
                entries = os.scandir(folder) if below < depth else None
            except OSError:
                stamps.append(f"{rel}\tmissing")
                continue
            if entries is not None:
                with entries:
                    deeper += [(posixpath.join(rel, e.name), e.path) for e in entries if e.is_dir()]
        level = sorted(deeper)
    return hashlib.blake2b("\n".join(stamps).encode(), digest_size=16).hexdigest()


def write_listing(table: pd.DataFrame, parquet_path, summary_path) -> dict:
    """index/{dataset}/listed.parquet (the table of `take_listing`) and listed.json, the summary the
    DAG reads when it parses: counts and a digest of what is listed (ids, paths, labels, splits,
    sizes and times). Returns the summary."""
    from zsar.io import atomic_output, write_json

    summary = {
        "videos": len(table),
        "present": int(table["present"].sum()),
        "digest": table_digest(table.sort_values("video_id"), ["video_id", "path", "label", "split", "stamp"]),
    }
    with atomic_output(parquet_path) as tmp:
        table[["video_id", "path", "label", "split", "stamp", "present"]].to_parquet(tmp, index=False)
    write_json(summary_path, summary)
    return summary
