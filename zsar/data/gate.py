"""The data gate: whether a dataset's index can train or score a model, checked before any training.

An index where most videos are missing or undecodable still trains and scores, on the few videos
that decode, and gives numbers that mean nothing. `check_data` refuses it with one message: the
counts, the classes short of videos, and the likely cause read from what is on disk (label folders
named unlike the classes, files with extensions the manifest does not list, files named unlike the
annotations, decoder failures), with what to do. It needs no torch.
"""

from __future__ import annotations

import difflib
import os
from collections import Counter
from pathlib import Path, PurePosixPath

import pandas as pd

from zsar.data.layouts import label_key, video_extensions
from zsar.data.video import BACKENDS

SHOWN = 10  # classes named in the message before "and N more"


def check_data(index: pd.DataFrame, classes: list[str], *, manifest: dict, root: Path, split: str | None,
               min_decodable: float, min_videos_per_class: int) -> str | None:
    """One message when the index of `manifest`'s dataset under `root` is not usable, else None.

    Usable: of the videos of `classes` listed in `split` (all splits when None), at least a
    fraction `min_decodable` decode (config key data_gate.min_decodable), and every class has at
    least `min_videos_per_class` decodable videos (data_gate.min_videos_per_class). `index` has
    the columns of zsar.data.index.INDEX_COLUMNS.
    """
    # A folder of unlabelled videos (no class list): the share that decodes is all there is to check.
    rows = index[index["label"].isin(classes)] if classes else index
    if split is not None:
        rows = rows[rows["split"] == split]
    decodable = int(rows["decodable"].sum())
    per_class = rows.loc[rows["decodable"], "label"].value_counts().reindex(classes, fill_value=0)
    short = per_class[per_class < min_videos_per_class]
    fraction = decodable / len(rows) if len(rows) else 0.0
    if fraction >= min_decodable and short.empty:
        return None

    where = f"split '{split}' of " if split is not None else ""
    lines = [f"{manifest['name']} ({root}) is not usable: {where}its {len(classes)} classes list {len(rows)} "
             f"videos, {decodable} of them decodable ({fraction:.0%}; data_gate.min_decodable asks for "
             f"{min_decodable:.0%})."]
    failed = rows[~rows["decodable"]]
    kinds = failed["problem"].astype(str).map(problem_kind).value_counts()
    if len(kinds):
        lines.append("  Not decodable: " + ", ".join(f"{kind} {n}" for kind, n in kinds.items()) + ".")
    if len(short):
        ordered = sorted(short.items(), key=lambda item: (item[1], classes.index(item[0])))
        more = f", and {len(ordered) - SHOWN} more" if len(ordered) > SHOWN else ""
        lines.append(f"  {len(short)} of {len(classes)} classes have fewer than {min_videos_per_class} decodable "
                     "videos (data_gate.min_videos_per_class): "
                     + ", ".join(f"'{label}' ({n})" for label, n in ordered[:SHOWN]) + more + ".")
    causes = likely_causes(rows, failed, classes, manifest, Path(root))
    if causes:
        lines.append("Likely cause:")
        lines += [f"  - {cause}" for cause in causes]
    lines.append(f"The index (index/{manifest.get('id', '<dataset>')}.parquet) gives each video's problem. "
                 "To go on with the videos that decode, lower data_gate.min_decodable or "
                 "data_gate.min_videos_per_class in config.yaml.")
    return "\n".join(lines)


def problem_kind(problem: str) -> str:
    """'missing file', 'pyav' (a decoder's), 'path leaves the dataset root', ...: a problem without its details."""
    return problem.split(":", 1)[0] or "no problem recorded"


def likely_causes(rows: pd.DataFrame, failed: pd.DataFrame, classes: list[str], manifest: dict,
                  root: Path) -> list[str]:
    """What the disk and the index say about why videos fail, most frequent problem first."""
    if rows.empty:
        return [f"the annotations list no video of these classes; the class list ({manifest_name(manifest)}) "
                "and the annotation files disagree, or the split names none of them"]
    kinds = failed["problem"].astype(str).map(problem_kind)
    causes = []
    for kind, n in kinds.value_counts().items():
        paths = failed.loc[kinds == kind, "path"].astype(str).tolist()
        problems = failed.loc[kinds == kind, "problem"].astype(str)
        if kind == "missing file":
            causes += missing_causes(paths, rows["path"].astype(str).tolist(), classes, manifest, root)
        elif kind in BACKENDS:
            message, count = Counter(problems).most_common(1)[0]
            extensions = Counter(PurePosixPath(p).suffix.lower() or "no extension" for p in paths)
            spread = ", ".join(f"{k} {v}" for k, v in extensions.most_common())
            causes.append(f"{n} videos fail to decode (by extension: {spread}); the most common message "
                          f"({count}): '{message}'. Truncated downloads and codecs the decoder lacks do this: "
                          "download or re-encode them (e.g. ffmpeg -c:v libx264 to .mp4)")
        elif kind == "path leaves the dataset root":
            causes.append(f"annotation paths that are absolute or go up with '..' ({n}), e.g. '{paths[0]}': "
                          f"the annotation files must give paths under {root}")
        elif kind == "zero frames":
            causes.append(f"files that hold no frame ({n}), e.g. '{paths[0]}': download them again")
    listed = rows["label"].value_counts().reindex(classes, fill_value=0)
    unlisted = listed[listed == 0].index.tolist()
    if unlisted:
        causes.append(f"the annotations list no video of {len(unlisted)} classes here, e.g. '{unlisted[0]}': the "
                      f"class list ({manifest_name(manifest)}) and the annotation files disagree")
    if not len(kinds) and not unlisted:
        causes.append("the videos decode but some classes have too few in this split: the copy is partial "
                      "for those classes")
    return causes


def missing_causes(paths: list[str], all_paths: list[str], classes: list[str], manifest: dict,
                   root: Path) -> list[str]:
    """Why files are missing, from what is on disk in their folders and in the folders above them."""
    causes = []
    extensions = video_extensions(manifest)
    absent_folders: dict[PurePosixPath, set[str]] = {}  # folder above -> missing label folders in it
    present: dict[PurePosixPath, list[str]] = {}  # existing folder -> its missing file names
    by_folder: dict[PurePosixPath, list[str]] = {}
    for rel in paths:
        by_folder.setdefault(PurePosixPath(rel).parent, []).append(PurePosixPath(rel).name)
    for folder, names in by_folder.items():  # one stat per folder, not per video
        if (root / folder).is_dir():
            present[folder] = names
        else:
            absent_folders.setdefault(folder.parent, set()).add(folder.name)
    causes.append(f"{len(paths)} of {len(all_paths)} videos are not found under {root}")
    keys = {label_key(name): name for name in classes}
    for above, wanted in sorted(absent_folders.items()):
        shown = "the dataset root" if str(above) == "." else f"{above}/"
        on_disk = entries(root / above, folders=True)
        if on_disk is None:
            causes.append(f"{shown} is not there ({root / above})")
            continue
        strangers = [name for name in on_disk if label_key(name) not in keys]
        if not strangers:
            causes.append(f"{shown} has no folder for {len(wanted)} classes, e.g. '{sorted(wanted)[0]}': "
                          "a partial copy? Download those classes")
            continue
        pairs = []
        for name in strangers[:3]:
            close = difflib.get_close_matches(label_key(name), keys, n=1, cutoff=0.5)
            pairs.append(f"'{name}' (closest class: '{keys[close[0]]}')" if close else f"'{name}' (no close class)")
        causes.append(f"{len(strangers)} of the {len(on_disk)} folders under {shown} match no class: the label "
                      f"folders look like {', '.join(pairs)}. A folder matches a class when they differ only in "
                      "case, _ or - for spaces, parentheses and quotes: rename the folders to the class names")
    if present:
        listed = {str(PurePosixPath(rel).with_suffix("")) for rel in all_paths}
        causes += present_folder_causes(present, listed, root, extensions, manifest)
    return causes


def present_folder_causes(present: dict[PurePosixPath, list[str]], listed: set[str], root: Path,
                          extensions: tuple[str, ...], manifest: dict) -> list[str]:
    """Missing files whose folders exist: files of other extensions, files the annotations do not
    name (renamed, or annotations of another version), or a partial copy."""
    other_extensions: Counter = Counter()
    strangers: list[tuple[str, str]] = []  # (file on disk that no annotation names, a missing file of its folder)
    missing = sum(len(names) for names in present.values())
    for folder, names in present.items():
        for name in entries(root / folder, folders=False) or []:
            suffix = PurePosixPath(name).suffix.lower()
            if suffix not in extensions:
                other_extensions[suffix or "no extension"] += 1
            elif str(folder / PurePosixPath(name).stem) not in listed:
                strangers.append((name, names[0]))
    causes = []
    if other_extensions:
        spread = ", ".join(f"{n} {ext}" for ext, n in other_extensions.most_common())
        causes.append(f"{missing} videos are missing from folders that exist, which hold {spread} files; "
                      f"{manifest_name(manifest)} lists {', '.join(extensions)} (video_extensions): add the "
                      "extension there if FFmpeg reads those files, or convert them")
    if strangers:
        on_disk, wanted = strangers[0]
        causes.append(f"the folders of the missing videos hold {len(strangers)} videos no annotation names, "
                      f"like '{on_disk}' (the annotations name e.g. '{wanted}'): files renamed, or annotations "
                      "of another version? "
                      "Name the files as the manifest's layout says")
    if not other_extensions and not strangers:
        causes.append(f"{missing} videos are missing from folders that hold only other listed videos (or "
                      "nothing): a partial copy (videos removed from YouTube cannot be downloaded)?")
    return causes


def entries(folder: Path, *, folders: bool) -> list[str] | None:
    """The names of the folders (or files) in `folder`, sorted; None when it is not there."""
    try:
        with os.scandir(folder) as scan:
            return sorted(entry.name for entry in scan if entry.is_dir() == folders)
    except (FileNotFoundError, NotADirectoryError):
        return None


def manifest_name(manifest: dict) -> str:
    """data_manifest/<dataset>.yaml, as a user finds it in the repository."""
    path = Path(manifest.get("_path", "the manifest"))
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name
