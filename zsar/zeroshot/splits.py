"""The splits stage: which target classes are unseen in each split (splits/{target}_{seen}_{unseen}.json).

The 0/N protocols draw `count` seeded random subsets of N% of a target's classes; a target whose
manifest publishes its own splits (Kinetics-ZSAR's 60 validation / 160 test classes) uses those.
The full-class protocol 0/full (what the CLIP family's papers report on UCF101 and HMDB51) scores
all the classes on the test videos of each of the dataset's three official splits (UCF101's
testlist01-03, HMDB51's split 1-3 test clips), a split's result the mean over them.
"""

from __future__ import annotations

import re

import numpy as np

from zsar.data.manifest import class_names
from zsar.io import did_you_mean, read_json, write_json


def make_splits(classes: list[str], *, unseen_percent: int, count: int, seed: int) -> list[list[str]]:
    """`count` seeded random subsets holding unseen_percent% of the classes (all of them at 100).

    The count is rounded down, as the papers and E2E's code do (`int(0.5 * 51)`): 0/50 of HMDB51's
    51 classes is 25 unseen classes, of UCF101's 101 is 50.
    """
    if unseen_percent == 100:
        return [list(classes)]
    n_unseen = len(classes) * unseen_percent // 100
    if not 1 <= n_unseen < len(classes):
        raise ValueError(f"{unseen_percent}% of {len(classes)} classes gives {n_unseen} unseen classes")
    rng = np.random.default_rng(seed)
    splits = []
    for _ in range(count):
        chosen = set(rng.choice(len(classes), n_unseen, replace=False).tolist())
        splits.append([c for k, c in enumerate(classes) if k in chosen])  # manifest order
    return splits


FULL = "full"
# The layouts whose official train/test lists define 3 splits (zsar.data.layouts reads them).
OFFICIAL_SPLITS = ("ucf101", "hmdb51")


def has_official_splits(manifest: dict) -> bool:
    return manifest.get("layout_kind") in OFFICIAL_SPLITS


def official_test_videos(manifest: dict, root) -> list[list[str]]:
    """The video ids of the test side of each official split 1-3, read from the dataset's own lists."""
    from pathlib import Path

    from zsar.data.layouts import read_hmdb51, read_ucf101

    if not has_official_splits(manifest):
        raise ValueError(f"{manifest.get('name', 'the dataset')} has no official splits (layouts with them: "
                         f"{', '.join(OFFICIAL_SPLITS)})")
    reader = {"ucf101": read_ucf101, "hmdb51": read_hmdb51}[manifest["layout_kind"]]
    tables = [reader(Path(root), split=k) for k in (1, 2, 3)]
    return [sorted(t.loc[t["split"] == "test", "video_id"]) for t in tables]


def protocol_splits(target: str, manifest: dict, seen: int, unseen, *, count: int, seed: int, root=None) -> dict:
    """The splits of `target` for protocol seen/unseen: the manifest's published ones when the
    protocol is theirs (seen = validation classes, unseen = test classes), the three official test
    lists for 0/full (read under `root`, the dataset's folder), else `make_splits`."""
    classes = class_names(manifest)
    fixed = manifest.get("protocol_splits")
    if unseen == FULL:
        videos = official_test_videos(manifest, root)
        return {"target": target, "protocol": f"0/{FULL}", "source": "the dataset's official test lists, splits 1-3",
                "n_classes": len(classes), "n_unseen": len(classes), "splits": [list(classes)] * 3, "videos": videos}
    if fixed and (seen, unseen) == (len(fixed[0]["val"]), len(fixed[0]["test"])):
        splits = [s["test"] for s in fixed]
        extra = {"validation": [s["val"] for s in fixed], "source": f"data_manifest/{target}.yaml protocol_splits"}
    else:
        splits = make_splits(classes, unseen_percent=unseen, count=count, seed=seed)
        extra = {"seed": seed}
    return {"target": target, "protocol": f"{seen}/{unseen}", **extra, "n_classes": len(classes),
            "n_unseen": len(splits[0]), "splits": splits}


def write_splits(path, splits: dict) -> None:
    write_json(path, splits)


class SplitsError(ValueError):
    """A splits file that does not hold what its protocol says: the message names the file, the split
    and the class, and what to do."""


def expected_unseen(protocol: str, n_classes: int) -> int:
    """Unseen classes per split: 0/N draws N% of the classes (rounded down); a published protocol
    (validation/test, e.g. Kinetics-ZSAR's 60/160) names its counts."""
    seen, unseen = protocol.split("/")
    if unseen == FULL:
        return n_classes
    seen, unseen = int(seen), int(unseen)
    if seen == 0:
        return n_classes if unseen == 100 else n_classes * unseen // 100
    return unseen


def read_splits(path, classes: list[str] | None = None) -> dict:
    """A splits file: target, protocol, n_classes, n_unseen and `splits` (a list of unseen-class lists),
    checked against its protocol: each split holds distinct classes, as many as the protocol says,
    and (given the target's `classes`) only classes of the target."""
    splits = read_json(path)
    what = (f"{path} is made by make_splits: delete it and run snakemake again to draw it anew, or "
            f"correct it by hand")
    if not isinstance(splits, dict) or not isinstance(splits.get("splits"), list) or not splits["splits"] \
            or not all(isinstance(s, list) and all(isinstance(c, str) for c in s) for s in splits["splits"]):
        raise SplitsError(f"{path}: not a splits file (a 'splits' list of class-name lists); {what}")
    protocol = splits.get("protocol", "")
    if not re.fullmatch(r"\d+/(\d+|full)", str(protocol)):
        raise SplitsError(f"{path}: protocol {protocol!r} is not of the form seen/unseen (0/50, 0/full); {what}")
    videos = splits.get("videos")
    if videos is not None and (not isinstance(videos, list) or len(videos) != len(splits["splits"])):
        raise SplitsError(f"{path}: 'videos' must list the test videos of each split, one list per split; {what}")
    n_classes = len(classes) if classes is not None else splits.get("n_classes")
    wanted = expected_unseen(protocol, n_classes) if isinstance(n_classes, int) else None
    known = set(classes) if classes is not None else None
    for k, split in enumerate(splits["splits"]):
        twice = sorted({c for c in split if split.count(c) > 1})
        if twice:
            raise SplitsError(f"{path}: split {k} lists {', '.join(map(repr, twice))} more than once; {what}")
        if wanted is not None and len(split) != wanted:
            raise SplitsError(f"{path}: split {k} holds {len(split)} classes, but protocol {protocol} of "
                              f"{n_classes} classes has {wanted} unseen classes per split; {what}")
        unknown = [c for c in split if known is not None and c not in known]
        if unknown:
            raise SplitsError(f"{path}: split {k} names {unknown[0]!r}, which is not a class of "
                              f"{splits.get('target', 'the target')}{did_you_mean(unknown[0], sorted(known))}; {what}")
    return {**splits, "n_unseen": len(splits["splits"][0])}
