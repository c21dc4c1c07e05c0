"""The prototypes stage: seen-class prototypes and ResT's semantic relatedness transfer (Lin et al.,
CVPR 2022, eq. 1-6), and their files (prototypes/{run}/seen.h5, prototypes/{run}/{target}_*.h5).

S[j, i] is the cosine similarity of unseen class j's word vector to seen class i's. A binary
A[j, i] selects which seen prototypes compose unseen prototype j, maximising sum(S * A) subject to
  I   A[j, i] = 0 unless seen i is among the K seen classes nearest to unseen j;
  II  A[j, i] = 0 when another unseen class k is much nearer to seen i than j is:
      min_{k != j} (1 - S[k, i]) / (1 - S[j, i]) <= epsilon;
  III sum_i A[j, i] <= d.
Prototype_j = sum_i A S proto_i / sum_i A S. Only positive S can weigh a prototype, so
entries with S <= 0 are never selected. A row that the constraints leave empty falls back to its
single nearest seen class, and is reported as relaxed.

VARIANTS holds ResT's Table 8 ablations (no constraint, I only, II+III, all) and one none of the
papers has: `capacity`, all three constraints plus at most `capacity` unseen prototypes per seen
class (sum_j A[j, i] <= capacity). It couples the rows, so the problem no longer splits into one
top-d choice per unseen class, and it limits how far one seen class can become a hub.
"""

from __future__ import annotations

import hashlib
import warnings

import h5py
import numpy as np
import pandas as pd
import pulp

from zsar.features import STRING
from zsar.io import atomic_output, open_h5
from zsar.metrics import unit


def seen_prototypes(labels: list[str], embeddings: np.ndarray, classes: list[str]) -> np.ndarray:
    """(n_classes, dim) unit-length mean embedding of each class's videos."""
    labels = np.asarray(labels)
    out = []
    for name in classes:
        members = embeddings[labels == name]
        if not len(members):
            raise ValueError(f"seen class '{name}' has no training video with an embedding: none of its "
                             "training videos is in the clip cache (see logs/check_data/ and logs/catalogue_clips/ "
                             "for which videos are missing or failed to decode)")
        mean = members.mean(axis=0)
        out.append(unit(mean))
    return np.asarray(out, dtype=np.float32)


def write_seen_prototypes(path, classes: list[str], prototypes: np.ndarray, n_videos: list[int]) -> None:
    """prototypes/{run}/seen.h5: `classes`, their `prototypes` and how many videos each averages."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("classes", data=np.array(classes, dtype=object), dtype=STRING)
        f.create_dataset("prototypes", data=prototypes)
        f.create_dataset("n_videos", data=np.asarray(n_videos))


def read_seen_prototypes(path) -> tuple[list[str], np.ndarray]:
    """The seen classes and their prototypes (n_classes, dim) of prototypes/{run}/seen.h5."""
    with open_h5(path) as f:
        return f["classes"].asstr()[:].tolist(), f["prototypes"][:]


def select_seen_videos(catalogue: pd.DataFrame, classes: list[str], videos_per_class: int | None,
                       seed: int) -> pd.DataFrame:
    """The source videos the seen prototypes are embedded from: the kept `classes` only, and per class
    and split (train for the prototypes, val for cross-validating the composition) all videos, or
    `videos_per_class` of them drawn with `seed` (the same draw whatever the catalogue's order)."""
    videos = catalogue[catalogue["label"].isin(classes) & catalogue["split"].isin(["train", "val"])]
    videos = videos.sort_values("video_id", kind="stable")
    if videos_per_class is None:
        return videos.reset_index(drop=True)
    chosen = []
    for (label, split), group in videos.groupby(["label", "split"], sort=True):
        if len(group) <= videos_per_class:
            chosen.append(group)
            continue
        key = int.from_bytes(hashlib.blake2b(f"{label}\t{split}".encode(), digest_size=8).digest(), "little")
        rows = np.random.default_rng([seed, key]).choice(len(group), videos_per_class, replace=False)
        chosen.append(group.iloc[np.sort(rows)])
    return pd.concat(chosen).sort_values("video_id", kind="stable").reset_index(drop=True) if chosen else videos


def constraint_masks(S: np.ndarray, K: int, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """The masks of constraint I (K nearest seen classes) and II (Lambda, relative distance)."""
    n_unseen, n_seen = S.shape
    nearest = np.zeros_like(S, dtype=bool)
    order = np.argsort(-S, axis=1, kind="stable")[:, :K]
    np.put_along_axis(nearest, order, True, axis=1)

    lam = np.ones_like(S, dtype=bool)
    if n_unseen > 1:
        dist = 1.0 - S
        # The smallest distance to seen i among the *other* unseen classes: the column minimum,
        # or the second smallest for the row that holds the minimum.
        two = np.partition(dist, 1, axis=0)[:2]
        argmin = dist.argmin(axis=0)
        other = np.where(np.arange(n_unseen)[:, None] == argmin[None, :], two[1][None, :], two[0][None, :])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(dist > 0, other / dist, np.inf)
        lam = ratio > epsilon
    return nearest, lam


# Which constraints each composition variant applies: I, II, III, and the capacity constraint.
VARIANTS = {
    "prototypes": {"I": True, "II": True, "III": True, "capacity": False},  # ResT, all constraints
    "prototypes_no_constraint": {"I": False, "II": False, "III": False, "capacity": False},
    "prototypes_I": {"I": True, "II": False, "III": False, "capacity": False},
    "prototypes_II_III": {"I": False, "II": True, "III": True, "capacity": False},
    "prototypes_capacity": {"I": True, "II": True, "III": True, "capacity": True},
}


def solve_assignment(S: np.ndarray, allowed: np.ndarray, d: int | None, capacity: int | None = None) -> np.ndarray:
    """The binary A maximising sum(S * A) over allowed entries with S > 0, with at most d ones per
    row and at most `capacity` per column (either None: unbounded), solved by CBC."""
    open_ = allowed & (S > 0)
    if d is None and capacity is None:  # nothing couples the cells: every allowed positive one is taken
        return open_.astype(np.int8)
    if capacity is None:
        # Only "at most d per row" remains: the rows are independent and each row's optimum is its d
        # largest open entries (all weights are positive), the same optimum CBC finds, without a solver
        # call per program (cross-validation solves thousands of them).
        A = np.zeros_like(S, dtype=np.int8)
        for j in range(S.shape[0]):
            cells = np.flatnonzero(open_[j])
            A[j, cells[np.argsort(-S[j, cells], kind="stable")[:d]]] = 1
        return A
    problem = pulp.LpProblem("relatedness_transfer", pulp.LpMaximize)
    cells = [(j, i) for j, i in zip(*np.nonzero(open_))]
    x = {cell: problem.add_variable(f"a_{cell[0]}_{cell[1]}", cat="Binary") for cell in cells}
    problem += pulp.lpSum(float(S[cell]) * var for cell, var in x.items())
    rows: dict[int, list] = {}
    columns: dict[int, list] = {}
    for (j, i), var in x.items():
        rows.setdefault(j, []).append(var)
        columns.setdefault(i, []).append(var)
    if d is not None:
        for j, row in rows.items():
            problem += pulp.lpSum(row) <= d, f"at_most_d_{j}"
    if capacity is not None:
        for i, column in columns.items():
            problem += pulp.lpSum(column) <= capacity, f"capacity_{i}"
    A = np.zeros_like(S, dtype=np.int8)
    if not x:
        return A
    # PuLP 3's bundled CBC; pinned in requirements.txt (PuLP 4 moves CBC to the pulp[cbc] extra).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, threads=1)
    status = problem.solve(solver)
    if pulp.LpStatus[status] != "Optimal":
        raise RuntimeError(f"CBC did not find an optimum: status {pulp.LpStatus[status]}")
    for (j, i), var in x.items():
        A[j, i] = int(round(var.value()))
    return A


def allowed_cells(S: np.ndarray, K: int, epsilon: float, variant: str) -> np.ndarray:
    """The cells a variant's constraints I and II leave open."""
    nearest, lam = constraint_masks(S, K, epsilon)
    allowed = np.ones_like(S, dtype=bool)
    if VARIANTS[variant]["I"]:
        allowed &= nearest
    if VARIANTS[variant]["II"]:
        allowed &= lam
    return allowed


def compose(S: np.ndarray, seen: np.ndarray, *, K: int, d: int, epsilon: float, variant: str = "prototypes",
            capacity: int | None = None):
    """Composed unseen prototypes (unit rows), the selection A, and which rows were relaxed."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown composition variant {variant!r}; use one of {', '.join(VARIANTS)}")
    use = VARIANTS[variant]
    if use["capacity"] and capacity is None:
        raise ValueError(f"variant {variant!r} needs a capacity")
    A = solve_assignment(S, allowed_cells(S, K, epsilon, variant), d if use["III"] else None,
                         capacity if use["capacity"] else None)
    relaxed = A.sum(axis=1) == 0
    for j in np.nonzero(relaxed)[0]:
        A[j, int(S[j].argmax())] = 1
    W = A * S
    protos = (W @ seen) / W.sum(axis=1, keepdims=True)
    protos = unit(protos)
    return protos.astype(np.float32), A, relaxed


def write_composition(path, seen_classes: list[str], settings: dict, splits: list[dict]) -> None:
    """prototypes/{run}/{target}_{seen}_{unseen}.h5: `settings` (K, d, epsilon, capacity) as attributes;
    per split k a group split_k with its unseen_classes, S, and per variant A, prototypes, relaxed.

    `splits`: per split {"unseen": [...], "S": S, "variants": {variant: (prototypes, A, relaxed)}}.
    """
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("seen_classes", data=np.array(seen_classes, dtype=object), dtype=STRING)
        f.attrs.update(settings)
        for k, split in enumerate(splits):
            group = f.create_group(f"split_{k}")
            group.create_dataset("unseen_classes", data=np.array(split["unseen"], dtype=object), dtype=STRING)
            group.create_dataset("S", data=split["S"])
            for variant, (prototypes, A, relaxed) in split["variants"].items():
                out = group.create_group(variant)
                out.create_dataset("A", data=A)
                out.create_dataset("prototypes", data=prototypes)
                out.create_dataset("relaxed", data=relaxed)


def read_composition(path) -> tuple[dict, list[dict]]:
    """The settings and, per split, {"unseen": [...], "prototypes": {variant: rows}, "relaxed": {variant:
    count}} of a composed-prototypes file."""
    with open_h5(path) as f:
        settings = {k: f.attrs[k].item() for k in ("K", "epsilon", "d", "capacity")}
        splits = []
        for k in range(sum(1 for name in f if name.startswith("split_"))):
            group = f[f"split_{k}"]
            variants = [v for v in VARIANTS if v in group]
            splits.append({"unseen": group["unseen_classes"].asstr()[:].tolist(),
                           "prototypes": {v: group[v]["prototypes"][:] for v in variants},
                           "relaxed": {v: int(group[v]["relaxed"][:].sum()) for v in variants}})
    return settings, splits


def cross_validate(seen_prototypes_: np.ndarray, seen_vectors: np.ndarray, embeddings: np.ndarray,
                   labels: np.ndarray, grid: dict, *, folds: int = 5, seed: int = 0):
    """Choose (epsilon, K, d) by k-fold cross-validation over the seen classes only (ResT).

    The seen classes are dealt into `folds` folds. For each fold, its classes play the unseen
    ones: their prototypes are composed from the other folds' prototypes (all constraints), and
    `embeddings` of their videos (`labels`: row indices into the seen classes) are labelled by the
    nearest composed prototype. Returns a list of {epsilon, K, d, top1 (mean over folds), fold_top1}
    in grid order, and the first entry with the best mean top-1.
    """
    n = len(seen_prototypes_)
    if n < 2 * folds:
        raise ValueError(f"{n} seen classes are too few for {folds}-fold cross-validation")
    order = np.random.default_rng(seed).permutation(n)
    fold_of = np.empty(n, dtype=int)
    fold_of[order] = np.arange(n) % folds
    x = unit(embeddings)
    rows = []
    for epsilon in grid["epsilon"]:
        for K in grid["K"]:
            for d in grid["d"]:
                fold_top1 = []
                for f in range(folds):
                    unseen, seen = np.flatnonzero(fold_of == f), np.flatnonzero(fold_of != f)
                    S = seen_vectors[unseen] @ seen_vectors[seen].T
                    protos, _, _ = compose(S, seen_prototypes_[seen], K=K, d=d, epsilon=epsilon)
                    members = np.isin(labels, unseen)
                    if not members.any():
                        continue
                    predicted = unseen[(x[members] @ protos.T).argmax(axis=1)]
                    fold_top1.append(float((predicted == labels[members]).mean()))
                if not fold_top1:
                    raise ValueError("no video of a seen class to cross-validate on")
                rows.append({"epsilon": epsilon, "K": K, "d": d, "top1": float(np.mean(fold_top1)),
                             "fold_top1": fold_top1})
    best = max(rows, key=lambda r: r["top1"])  # max keeps the first of equals: grid order decides ties
    return rows, best
