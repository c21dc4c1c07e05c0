"""A folder of unlabelled videos (a manifest's layout_kind `folder`): the videos to predict classes for.

Every video file under the dataset's folder, in any folders below it, is listed: by extension (the
manifest's video_extensions), hidden files and folders left out. Its id is its path without the
extension, "/" written as "__" (as a csv layout's); its label is empty and its split test. The
listing (zsar.data.listing) reads it; the index, the data gate and the clip cache treat it as any
dataset's videos.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from zsar.data.layouts import COLUMNS, WHERE, LayoutError, csv_video_id, video_extensions

UNLABELLED = ""  # the label of every video of a folder


def is_folder(manifest: dict) -> bool:
    return manifest.get("layout_kind") == "folder"


def read_folder(manifest: dict, root: Path) -> pd.DataFrame:
    """Every video under `root` with one of the manifest's extensions: video_id, path, label (empty),
    split (test), file and line (the folder, 0). LayoutError when the folder is missing or holds none."""
    root, extensions = Path(root), video_extensions(manifest)
    if not root.is_dir():
        raise LayoutError(f"{root} is not a folder: put the videos there, in any folders, or link the folder "
                          f"holding them there (ln -s /path/to/videos {root})")
    rows, ids = [], {}
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in extensions:
                continue
            rel = Path(folder, name).relative_to(root).as_posix()
            video_id = csv_video_id(rel)
            if video_id in ids:
                raise LayoutError(f"{root}: videos {ids[video_id]!r} and {rel!r} have one video id, {video_id!r} "
                                  "(the path without its extension, '/' as '__'); rename one of the files")
            ids[video_id] = rel
            rows.append((video_id, rel, UNLABELLED, "test", str(root), 0))
    if not rows:
        raise LayoutError(f"{root} holds no video with one of the extensions {', '.join(extensions)}: put the "
                          "videos there, or add their extension to the manifest's video_extensions")
    return pd.DataFrame(rows, columns=COLUMNS + WHERE)
