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

from zsar.io import atomic_output, open_h5
from zsar.zeroshot.features import STRING
from zsar.zeroshot.metrics import unit


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


def read_composed_from(path, split: int = 0, variant: str = "prototypes") -> list[dict]:
    """Per unseen class of one split: the seen classes its prototype is composed from, with their
    similarity weights (strongest first), and whether its constraints were relaxed."""
    with open_h5(path) as f:
        seen = f["seen_classes"].asstr()[:].tolist()
        group = f[f"split_{split}"]
        unseen = group["unseen_classes"].asstr()[:].tolist()
        A, S, relaxed = group[variant]["A"][:], group["S"][:], group[variant]["relaxed"][:]
    rows = []
    for j, name in enumerate(unseen):
        chosen = np.flatnonzero(A[j])
        chosen = chosen[np.argsort(-S[j, chosen], kind="stable")]
        rows.append({"unseen": name, "seen": [(seen[i], float(S[j, i])) for i in chosen],
                     "relaxed": bool(relaxed[j])})
    return rows


# ---- choosing (epsilon, K, d) on the seen classes only -------------------------------------------
#
# Each round of cross-validation holds out some seen classes, composes their prototypes from the
# other seen classes' prototypes (all constraints) and labels their held-out videos by the nearest
# composed prototype. Two rules (config compose.rule):
#   best    ResT's protocol: the seen classes are dealt into `folds` folds, each fold is held out
#           once, and the grid point with the best mean top-1 is chosen (ties: first in grid order).
#   one_se  the held-out size matches the protocol: each round holds out as many seen classes as the
#           split being scored has unseen classes, capped so that at least half the seen classes
#           stay in (and at least 2 are held out); `repeats` rounds, each a fresh seeded random draw
#           of the held-out classes; then the one-standard-error rule: among the grid points whose
#           mean top-1 is within one standard error (of the best point's mean) of the best mean, the
#           most conservative composition, the smallest d, then the smallest K, then the largest
#           epsilon. Fewer and nearer seen classes per prototype is the simpler model: d caps how
#           many seen prototypes are mixed, K how far down the neighbour list they may come from,
#           and a larger epsilon forbids more seen classes that another unseen class is much nearer
#           to. The order of this tie-break is fixed here, not by the order of the grid.
# The selection receives the seen classes' data and one integer, the protocol's unseen-class count
# (protocol information, read from the split file's `n_unseen`); never a target class, its vector or
# a target video.

RULES = ("best", "one_se")


def held_out_size(n_seen: int, n_unseen: int) -> int:
    """Seen classes one round holds out under the one_se rule: as many as the protocol has unseen
    classes, at most half of the seen classes (the other half or more stay in), at least 2."""
    if n_seen < 4:
        raise ValueError(f"{n_seen} seen classes are too few: a round holds out at least 2 and keeps at least as many")
    if n_unseen < 1:
        raise ValueError(f"a protocol with {n_unseen} unseen classes")
    return max(2, min(n_unseen, n_seen // 2))


def kfold_rounds(n_seen: int, folds: int, seed: int) -> list[np.ndarray]:
    """ResT's rounds: the seen classes dealt at random into `folds` folds, each held out once."""
    if n_seen < 2 * folds:
        raise ValueError(f"{n_seen} seen classes are too few for {folds}-fold cross-validation")
    order = np.random.default_rng(seed).permutation(n_seen)
    fold_of = np.empty(n_seen, dtype=int)
    fold_of[order] = np.arange(n_seen) % folds
    return [np.flatnonzero(fold_of == f) for f in range(folds)]


def random_rounds(n_seen: int, held_out: int, repeats: int, seed: int) -> list[np.ndarray]:
    """`repeats` rounds, round r holding out `held_out` seen classes drawn with seed (seed, r): the
    first rounds stay the same when more are asked for."""
    if not 1 <= held_out < n_seen:
        raise ValueError(f"cannot hold out {held_out} of {n_seen} seen classes")
    if repeats < 2:
        raise ValueError("a standard error needs at least 2 rounds")
    return [np.sort(np.random.default_rng([seed, r]).choice(n_seen, held_out, replace=False))
            for r in range(repeats)]


def score_grid(seen_prototypes_: np.ndarray, seen_vectors: np.ndarray, embeddings: np.ndarray, labels: np.ndarray,
               grid: dict, rounds: list[np.ndarray]) -> list[dict]:
    """Per grid point (grid order: epsilon, then K, then d) {epsilon, K, d, top1, se, round_top1}: the
    top-1 of each round whose held-out classes have videos (`labels`: row indices into the seen
    classes), their mean, and its standard error (sample sd / sqrt(rounds); the rounds share classes,
    so it is a yardstick for near-ties, not an exact error)."""
    x = unit(embeddings)
    rows = []
    for epsilon in grid["epsilon"]:
        for K in grid["K"]:
            for d in grid["d"]:
                round_top1 = []
                for unseen in rounds:
                    seen = np.setdiff1d(np.arange(len(seen_prototypes_)), unseen)
                    members = np.isin(labels, unseen)
                    if not members.any():
                        continue
                    S = seen_vectors[unseen] @ seen_vectors[seen].T
                    protos, _, _ = compose(S, seen_prototypes_[seen], K=K, d=d, epsilon=epsilon)
                    predicted = unseen[(x[members] @ protos.T).argmax(axis=1)]
                    round_top1.append(float((predicted == labels[members]).mean()))
                if not round_top1:
                    raise ValueError("no video of a seen class to cross-validate on")
                se = float(np.std(round_top1, ddof=1) / np.sqrt(len(round_top1))) if len(round_top1) > 1 else 0.0
                rows.append({"epsilon": epsilon, "K": K, "d": d, "top1": float(np.mean(round_top1)), "se": se,
                             "round_top1": round_top1})
    return rows


def choose_best(rows: list[dict]) -> dict:
    """The grid point with the best mean top-1; the first in grid order among equals."""
    return max(rows, key=lambda r: r["top1"])


def choose_one_se(rows: list[dict]) -> dict:
    """The one-standard-error rule: among the points whose mean top-1 is at least the best mean less
    the best point's standard error, the smallest d, then the smallest K, then the largest epsilon."""
    best = choose_best(rows)
    near = [r for r in rows if r["top1"] >= best["top1"] - best["se"]]
    return min(near, key=lambda r: (r["d"], r["K"], -r["epsilon"]))


def select_composition(seen_prototypes_: np.ndarray, seen_vectors: np.ndarray, embeddings: np.ndarray,
                       labels: np.ndarray, grid: dict, *, n_unseen: int, rule: str = "one_se", repeats: int = 20,
                       folds: int = 5, seed: int = 0) -> dict:
    """Choose (epsilon, K, d) from the seen classes alone, by `rule` (see above). `n_unseen` is the
    protocol's unseen-class count (only the one_se rule uses it). Returns the record written to
    prototypes/{run}/composition_{target}_{seen}_{unseen}.json: rule, its rounds, every grid point's
    mean top-1 and standard error, and the chosen point."""
    if isinstance(n_unseen, bool) or not isinstance(n_unseen, (int, np.integer)):
        raise TypeError(f"n_unseen is the protocol's unseen-class count, an integer, not {type(n_unseen).__name__}")
    n = len(seen_prototypes_)
    if rule == "best":
        rounds = kfold_rounds(n, folds, seed)
        design = {"folds": folds}
    elif rule == "one_se":
        held_out = held_out_size(n, n_unseen)
        rounds = random_rounds(n, held_out, repeats, seed)
        design = {"repeats": repeats, "held_out": held_out}
    else:
        raise ValueError(f"unknown selection rule {rule!r}; use one of {', '.join(RULES)}")
    rows = score_grid(seen_prototypes_, seen_vectors, embeddings, labels, grid, rounds)
    chosen = choose_best(rows) if rule == "best" else choose_one_se(rows)
    best = choose_best(rows)
    return {"rule": rule, **design, "seed": seed, "n_seen": n, "n_unseen": n_unseen,
            "chosen": {k: chosen[k] for k in ("epsilon", "K", "d")}, "top1": chosen["top1"], "se": chosen["se"],
            "best": {k: best[k] for k in ("epsilon", "K", "d", "top1", "se")},
            "grid": rows}


def cv_videos(videos: pd.DataFrame, split: pd.Series, classes: list[str]) -> tuple[np.ndarray, str]:
    """Which seen-feature rows cross-validation labels: the held-out (val) videos of the seen
    classes, or their training videos when the source has no val videos. Returns the row mask and
    a phrase saying which."""
    kept = videos["label"].isin(classes).to_numpy()
    held_out = (split == "val").to_numpy() & kept
    if held_out.any():
        return held_out, "held-out (val)"
    # the seen prototypes come from the training videos; prefer videos they did not see
    return (split == "train").to_numpy() & kept, "training (the source has no val videos)"
