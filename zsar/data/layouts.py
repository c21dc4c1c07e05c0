"""Readers of each dataset's official layout: which videos exist, with label and split.

Each reader returns a table with video_id, path (relative to the dataset root), label and split,
built from the dataset's own annotation files, so that a video missing from disk is listed (and
reported by the index) rather than silently absent, and with the file and line that listed each
video (`file`, `line`), so that a video listed twice can be named. `manifest["layout_kind"]` picks
the reader; `read_layout` refuses duplicates.

Label folders. Kinetics downloaders name a class's folder after its label but rarely as the
annotations write it: "air_drumming" for "air drumming", "passing_American_football_(in_game)" or
"passing_American_football_in_game" for "passing American football (in game)", "massaging_persons_head"
for "massaging person's head". A folder on disk stands for a label when both have the same
`label_key`: case-folded; quotes (' " ` and their typographic forms) deleted; underscores, hyphens
and parentheses read as spaces; whitespace collapsed. Parentheses are separators rather than
characters because downloaders keep them, drop them or replace them with underscores, and all three
must give the same key; quotes are deleted rather than read as spaces because downloaders that strip
them join the words ("persons"). No two class names of a manifest share a key
(tests/test_layouts.py checks every manifest), so the key loses no distinction the datasets make.
The Kinetics reader scans each side's folders once (os.scandir), builds paths with the folder name
found on disk and keeps the label as the annotations write it; two folders with one key are an
error naming both. UCF101 and HMDB51 are not scanned: their list files name the folders.

Extensions. A manifest's `video_extensions` lists the extensions a video may have, in order of
preference (Kinetics: .mp4, .webm, .mkv, as YouTube downloaders write them). The Kinetics and
ActivityNet readers pick the file on disk with one of them, the earliest listed when a video has
several; a video with none keeps the first, so that the index reports it as a missing file.

A dataset of the user's own (layout_kind `csv`) is any folder of videos with one annotations CSV
(header path,label,split; paths relative to the dataset's folder) and a class list
(zsar.data.manifest's `classes_file`). Its reader checks every row against the class list and the
split names (SPLITS), and its video id is the path without its extension, with "/" written as
"__" (a video id names an HDF5 dataset in the clip cache, where "/" would nest groups).
"""

from __future__ import annotations

import csv
import difflib
import json
import os
import re
from pathlib import Path, PurePosixPath

import pandas as pd

from zsar.data.manifest import class_names

COLUMNS = ["video_id", "path", "label", "split"]
WHERE = ["file", "line"]  # which annotation file and line listed the video
DEFAULT_EXTENSIONS = (".mp4",)
# The splits a layout may give a video: a source trains on train and keeps the epoch that does best
# on val; a target scores all its videos, whatever their split. (HMDB51's reader adds "unused".)
SPLITS = ("train", "val", "test")
CSV_COLUMNS = ["path", "label", "split"]  # a user's annotations CSV (layout_kind csv)


class LayoutError(ValueError):
    """An annotation file is missing or malformed; the message names the file and the line."""


def _lines(path: Path) -> list[tuple[int, str]]:
    if not path.exists():
        raise LayoutError(f"{path} is missing")
    return [(n, line.strip()) for n, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]


QUOTES = re.compile("['\"`\u2018\u2019\u201c\u201d]")
SEPARATORS = re.compile(r"[_\-()]")


def label_key(name: str) -> str:
    """What a label and its folder on disk must share (see the module's docstring)."""
    return " ".join(SEPARATORS.sub(" ", QUOTES.sub("", name.casefold())).split())


def video_extensions(manifest: dict) -> tuple[str, ...]:
    """The manifest's `video_extensions` in order of preference, lower-case; .mp4 when it has none."""
    listed = manifest.get("video_extensions", list(DEFAULT_EXTENSIONS))
    if (not isinstance(listed, list) or not listed
            or not all(isinstance(ext, str) and re.fullmatch(r"\.[A-Za-z0-9]+", ext) for ext in listed)):
        raise LayoutError(f"{manifest.get('_path', 'the manifest')}: video_extensions must be a list of "
                          f"extensions such as [.mp4, .webm], not {listed!r}")
    return tuple(ext.lower() for ext in listed)


def video_files(folder: Path, extensions: tuple[str, ...]) -> dict[str, str]:
    """Each video's file name in `folder` by its name without extension, the earliest extension winning.

    Files with other extensions are left out; a missing folder holds nothing.
    """
    rank = {ext: n for n, ext in enumerate(extensions)}
    best: dict[str, tuple[int, str]] = {}
    try:
        entries = os.scandir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    with entries:
        for entry in entries:
            stem, dot, ext = entry.name.rpartition(".")
            order = rank.get(dot + ext.lower()) if dot else None
            if order is not None and (stem not in best or order < best[stem][0]):
                best[stem] = (order, entry.name)
    return {stem: name for stem, (_, name) in best.items()}


def label_folders(side: Path) -> dict[str, str]:
    """The folders under `side` by `label_key`; two folders with one key are a LayoutError naming both."""
    folders: dict[str, str] = {}
    try:
        entries = os.scandir(side)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    with entries:
        names = sorted(entry.name for entry in entries if entry.is_dir())  # follows symlinked folders
    for name in names:
        key = label_key(name)
        if key in folders:
            raise LayoutError(f"{side}: folders {folders[key]!r} and {name!r} both stand for label {key!r} "
                              "(labels match folders ignoring case, underscores, hyphens, parentheses and "
                              "quotes); merge them into one folder")
        folders[key] = name
    return folders


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


def read_kinetics(root: Path, extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
                  sides: tuple[str, ...] = ("train", "val")) -> pd.DataFrame:
    """{train,val}/<label>/<youtube_id>_<start:06d>_<end:06d>.<ext> listed by annotations/{train,val}.csv.

    <label> is the folder on disk that stands for the label (`label_key`) and <ext> the first of
    `extensions` found; the label column keeps the annotations' spelling. Only `sides` are read.
    """
    tables = []
    for side in sides:
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
        # astype(str) throughout: a header-only CSV has object columns that would not add up as strings.
        start, end = (table[column].astype("int64").astype(str).str.zfill(6) for column in ("time_start", "time_end"))
        ids = (table["youtube_id"].astype(str) + "_" + start + "_" + end).tolist()
        labels = table["label"].tolist()  # lists: iterating pandas' arrow strings is 3x slower
        folders = label_folders(root / side)
        paths = {}  # label -> (folder name, {video id: file name}), each folder read once
        for label in set(labels):
            folder = folders.get(label_key(label), label)
            paths[label] = (folder, video_files(root / side / folder, extensions))
        rel = [f"{side}/{paths[label][0]}/{paths[label][1].get(video_id, video_id + extensions[0])}"
               for label, video_id in zip(labels, ids)]
        tables.append(pd.DataFrame({"video_id": ids, "path": rel, "label": labels, "split": side,
                                    "file": str(path), "line": table.index + 2}))
    return pd.concat(tables, ignore_index=True)


def read_activitynet(root: Path, extensions: tuple[str, ...] = (".mp4", ".mkv", ".webm")) -> pd.DataFrame:
    """videos/v_<youtube_id>.<ext> listed by activity_net.v1-3.min.json (training and validation).

    <ext> is the first of `extensions` found on disk (the first of all when none is).

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
    on_disk = video_files(root / "videos", extensions)
    rows = []
    for youtube_id, entry in database.items():
        if entry.get("subset") not in ("training", "validation") or not entry.get("annotations"):
            continue
        video_id = f"v_{youtube_id}"
        name = on_disk.get(video_id, video_id + extensions[0])
        rows.append((video_id, f"videos/{name}", entry["annotations"][0]["label"],
                     "train" if entry["subset"] == "training" else "val", str(path), None))
    return pd.DataFrame(rows, columns=COLUMNS + WHERE)


def csv_video_id(path: str) -> str:
    """A user's video's id: its path without the extension, "/" written as "__" (videos/a/b.mp4: videos__a__b)."""
    rel = PurePosixPath(path)
    return str(rel.with_suffix("") if rel.suffix else rel).replace("/", "__")


def read_csv_layout(root: Path, annotations: str = "annotations.csv", classes: list[str] | tuple[str, ...] = ()
                    ) -> pd.DataFrame:
    """Any folder of videos listed by one CSV with the header path,label,split (layout_kind csv).

    `path` is relative to `root`; `label` must be one of `classes` as written there; `split` one of
    SPLITS. Other columns are ignored. Every problem (a missing column, an empty or absolute path, a
    path that goes up with '..', a label not in `classes`, an unknown split, a path listed twice, two
    paths with one video id) is a LayoutError naming the file and line, with what to do.
    """
    path = Path(root) / annotations
    if not path.is_file():
        raise LayoutError(f"{path} is missing: write the annotations there, a CSV with the header "
                          f"{','.join(CSV_COLUMNS)} and a line per video")
    known = set(classes)
    rows = []
    first: dict[str, int] = {}  # normalised path -> line
    ids: dict[str, tuple[int, str]] = {}  # video id -> (line, path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: CSVs saved by spreadsheet programs
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            missing = [name for name in CSV_COLUMNS if name not in header]
            if missing:
                raise LayoutError(f"{path} line 1: column(s) {', '.join(missing)} missing; the header must name "
                                  f"{','.join(CSV_COLUMNS)} (found {','.join(header) or 'nothing'})")
            reader.fieldnames = header
            for record in reader:
                line = reader.line_num
                fields = {name: (record.get(name) or "").strip() for name in CSV_COLUMNS}
                rel, label, split = fields["path"], fields["label"], fields["split"]
                where = f"{path} line {line}"
                if not rel:
                    raise LayoutError(f"{where}: the path is empty; give the video's path relative to {root}")
                if "\\" in rel:
                    raise LayoutError(f"{where}: path {rel!r} has backslashes; write it with '/' (videos/a.mp4)")
                posix = PurePosixPath(rel)
                if posix.is_absolute() or ".." in posix.parts:
                    raise LayoutError(f"{where}: path {rel!r} must lie under {root}, relative to it, without '..'")
                rel = str(posix)  # "./videos//a.mp4" -> "videos/a.mp4"
                if label not in known:
                    close = difflib.get_close_matches(label, list(known), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise LayoutError(f"{where}: label {label!r} is not in the class list{hint}; fix the label, "
                                      "or add the class to the class list")
                if split not in SPLITS:
                    raise LayoutError(f"{where}: split {split!r} is not one of {', '.join(SPLITS)}")
                if rel in first:
                    raise LayoutError(f"{where}: video {rel!r} is listed twice (first on line {first[rel]}); "
                                      "list each video once: remove one of the lines")
                first[rel] = line
                video_id = csv_video_id(rel)
                if video_id in ids:
                    raise LayoutError(f"{where}: videos {ids[video_id][1]!r} (line {ids[video_id][0]}) and {rel!r} "
                                      f"have one video id, {video_id!r} (the path without extension, '/' as '__'); "
                                      "rename one of the files")
                ids[video_id] = (line, rel)
                rows.append((video_id, rel, label, split, str(path), line))
    except (csv.Error, UnicodeDecodeError) as error:
        raise LayoutError(f"{path}: not a readable CSV ({error}); save it as UTF-8 CSV with commas") from None
    return pd.DataFrame(rows, columns=COLUMNS + WHERE)


READERS = {
    "annotations_csv": read_annotations_csv,
    "csv": read_csv_layout,
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
    # Readers that find each video's extension on disk take the manifest's list of them.
    options = {"extensions": video_extensions(manifest)} if kind in ("kinetics", "activitynet") else {}
    if kind == "kinetics":
        # A side the manifest does not require and the disk lacks is not listed: Kinetics-ZSAR uses
        # Kinetics-600's val videos, and its train/ folder may be absent (not thousands of missing files).
        options["sides"] = tuple(side for side in ("train", "val")
                                 if side in manifest.get("required", []) or (Path(root) / side).exists()) or ("train", "val")
    if kind == "csv":
        options = {"annotations": manifest.get("annotations_file", "annotations.csv"),
                   "classes": class_names(manifest)}
    table = READERS[kind](Path(root), **options)
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
