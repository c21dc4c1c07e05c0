"""The splits stage: which target classes are unseen in each split (splits/{target}_{seen}_{unseen}.json).

The 0/N protocols draw `count` seeded random subsets of N% of a target's classes; a target whose
manifest publishes its own splits (Kinetics-ZSAR's 60 validation / 160 test classes) uses those.
"""

from __future__ import annotations

import numpy as np

from zsar.io import read_json, write_json
from zsar.manifest import class_names


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


def protocol_splits(target: str, manifest: dict, seen: int, unseen: int, *, count: int, seed: int) -> dict:
    """The splits of `target` for protocol seen/unseen: the manifest's published ones when the
    protocol is theirs (seen = validation classes, unseen = test classes), else `make_splits`."""
    classes = class_names(manifest)
    fixed = manifest.get("protocol_splits")
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


def read_splits(path) -> dict:
    """A splits file: target, protocol, n_classes, n_unseen and `splits` (a list of unseen-class lists)."""
    return read_json(path)
