"""Readers of each dataset's official layout: which videos exist, with label and split.

Each reader returns a table with video_id, path (relative to the dataset root), label and split,
built from the dataset's own annotation files, so that a video missing from disk is listed (and
reported by the index) rather than silently absent, and with the file and line that listed each
video (`file`, `line`), so that a video listed twice can be named. `manifest["layout_kind"]` picks
the reader; `read_layout` refuses duplicates.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

COLUMNS = ["video_id", "path", "label", "split"]
WHERE = ["file", "line"]  # which annotation file and line listed the video


class LayoutError(ValueError):
    """An annotation file is missing or malformed; the message names the file and the line."""


def _lines(path: Path) -> list[tuple[int, str]]:
    if not path.exists():
        raise LayoutError(f"{path} is missing")
    return [(n, line.strip()) for n, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]


def read_annotations_csv(root: Path) -> pd.DataFrame:
    """The embedded world's layout: annotations.csv with video_id, path, label, split."""
    path = root / "annotations.csv"
    try:
        table = pd.read_csv(path, dtype=str)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise LayoutError(f"{path}: not an annotation CSV ({error})") from None
    if not set(COLUMNS) <= set(table.columns):
        raise LayoutError(f"{path}: columns {COLUMNS} expected, found {list(table.columns)}")
    return table[COLUMNS].assign(file=str(path), line=table.index + 2)  # line 1 is the header


def read_ucf101(root: Path, split: int = 1) -> pd.DataFrame:
    """UCF-101/<Class>/<clip>.avi listed by ucfTrainTestlist/{trainlist,testlist}0<split>.txt.

    The split column is the video's side in official split `split`; zero-shot protocols use all.
    """
    lists = root / "ucfTrainTestlist"
    classes = {}
    for n, line in _lines(lists / "classInd.txt"):
        parts = line.split()
        if len(parts) != 2:
            raise LayoutError(f"{lists / 'classInd.txt'} line {n}: expected '<index> <ClassName>', got {line!r}")
        classes[parts[1].lower()] = parts[1]
    rows = []
    for side in ("train", "test"):
        listing = lists / f"{side}list0{split}.txt"
        for n, line in _lines(listing):
            rel = line.split()[0]
            folder = rel.split("/")[0]
            if folder.lower() not in classes:
                raise LayoutError(f"{listing} line {n}: class folder {folder!r} is not in classInd.txt")
            rows.append((Path(rel).stem, f"UCF-101/{rel}", classes[folder.lower()], side, str(listing), n))
    return pd.DataFrame(rows, columns=COLUMNS + WHERE)


def read_hmdb51(root: Path, split: int = 1) -> pd.DataFrame:
    """videos/<class>/<clip>.avi listed by testTrainMulti_7030_splits/<class>_test_split<split>.txt.

    In those files 1 marks a training clip, 2 a testing clip and 0 a clip left out of that split.
    """
    folder = root / "testTrainMulti_7030_splits"
    files = sorted(folder.glob(f"*_test_split{split}.txt"))
    if not files:
        raise LayoutError(f"{folder}: no *_test_split{split}.txt files")
    sides = {"0": "unused", "1": "train", "2": "test"}
    rows = []
    for listing in files:
        label = listing.name[: -len(f"_test_split{split}.txt")]
        for n, line in _lines(listing):
            parts = line.split()
            if len(parts) != 2 or parts[1] not in sides:
                raise LayoutError(f"{listing} line {n}: expected '<clip>.avi <0|1|2>', got {line!r}")
            rows.append((Path(parts[0]).stem, f"videos/{label}/{parts[0]}", label, sides[parts[1]], str(listing), n))
    return pd.DataFrame(rows, columns=COLUMNS + WHERE)


def read_kinetics(root: Path) -> pd.DataFrame:
    """{train,val}/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4 listed by annotations/{train,val}.csv."""
    tables = []
    for side in ("train", "val"):
        path = root / "annotations" / f"{side}.csv"
        if not path.exists():
            raise LayoutError(f"{path} is missing")
        try:
            table = pd.read_csv(path, dtype={"youtube_id": str})
        except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
            raise LayoutError(f"{path}: not an annotation CSV ({error})") from None
        missing = {"label", "youtube_id", "time_start", "time_end"} - set(table.columns)
        if missing:
            raise LayoutError(f"{path}: columns {sorted(missing)} missing (found {list(table.columns)})")
        ids = (table["youtube_id"] + "_" + table["time_start"].astype(int).map("{:06d}".format)
               + "_" + table["time_end"].astype(int).map("{:06d}".format))
        tables.append(pd.DataFrame({"video_id": ids, "path": side + "/" + table["label"] + "/" + ids + ".mp4",
                                    "label": table["label"], "split": side, "file": str(path),
                                    "line": table.index + 2}))
    return pd.concat(tables, ignore_index=True)


def read_activitynet(root: Path) -> pd.DataFrame:
    """videos/v_<youtube_id>.<ext> listed by activity_net.v1-3.min.json (training and validation).

    A video is labelled with its first annotated activity (almost all have one); the testing
    subset has no labels and is left out.
    """
    path = root / "activity_net.v1-3.min.json"
    if not path.exists():
        raise LayoutError(f"{path} is missing")
    try:
        database = json.loads(path.read_text())["database"]
    except (json.JSONDecodeError, KeyError) as error:
        raise LayoutError(f"{path}: not the ActivityNet annotation file ({error})") from None
    on_disk = {p.stem: p.name for p in (root / "videos").glob("v_*")}
    rows = []
    for youtube_id, entry in database.items():
        if entry.get("subset") not in ("training", "validation") or not entry.get("annotations"):
            continue
        video_id = f"v_{youtube_id}"
        name = on_disk.get(video_id, f"{video_id}.mp4")
        rows.append((video_id, f"videos/{name}", entry["annotations"][0]["label"],
                     "train" if entry["subset"] == "training" else "val", str(path), None))
    return pd.DataFrame(rows, columns=COLUMNS + WHERE)


READERS = {
    "annotations_csv": read_annotations_csv,
    "ucf101": read_ucf101,
    "hmdb51": read_hmdb51,
    "kinetics": read_kinetics,
    "activitynet": read_activitynet,
}


def read_layout(manifest: dict, root: Path) -> pd.DataFrame:
    """The dataset's videos (video_id, path, label, split, file, line); a video listed twice is an error."""
    kind = manifest.get("layout_kind")
    if kind not in READERS:
        raise LayoutError(f"{manifest['_path']}: layout_kind must be one of {', '.join(READERS)}, not {kind!r}")
    table = READERS[kind](Path(root))
    check_no_duplicates(table)
    return table


def check_no_duplicates(table: pd.DataFrame, shown: int = 5) -> None:
    """A video listed twice would be trained on or scored twice: refuse it, naming files and lines."""
    repeated = table[table.duplicated("video_id", keep=False)]
    if repeated.empty:
        return
    groups = list(repeated.groupby("video_id", sort=False))
    lines = []
    for video_id, rows in groups[:shown]:
        where = " and ".join(f"{row.file} line {row.line}" if pd.notna(row.line) else str(row.file)
                             for row in rows.itertuples())
        lines.append(f"  video {video_id!r}: {where}")
    more = f"\n  ... and {len(groups) - shown} more" if len(groups) > shown else ""
    raise LayoutError(f"{len(groups)} video(s) are listed more than once; each must be listed once "
                      "(remove the extra lines):\n" + "\n".join(lines) + more)
