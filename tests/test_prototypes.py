import itertools

import numpy as np
import pytest

from zsar.prototypes import compose, constraint_masks, solve_assignment
from zsar.splits import make_splits


def brute_force(S, allowed, d):
    """The optimum by enumerating every row's subsets (rows are independent in this program)."""
    best = np.zeros_like(S, dtype=np.int8)
    for j in range(S.shape[0]):
        cells = [i for i in range(S.shape[1]) if allowed[j, i]]
        options = [c for r in range(d + 1) for c in itertools.combinations(cells, r)]
        chosen = max(options, key=lambda c: sum(S[j, i] for i in c))
        best[j, list(chosen)] = 1
    return best


def test_constraint_one_keeps_the_k_nearest():
    S = np.array([[0.9, 0.1, 0.5, 0.7]])
    nearest, _ = constraint_masks(S, K=2, epsilon=0.5)
    assert nearest.tolist() == [[True, False, False, True]]


def test_constraint_two_hands_a_seen_class_to_a_much_nearer_unseen_class():
    # Seen 0 is at distance 0.1 from unseen 1 and 0.5 from unseen 0: ratio 0.2 <= 0.5 forbids (0, 0).
    # Seen 1 is at 0.4 and 0.6: ratios 1.5 and 0.67 > 0.5, allowed for both.
    S = np.array([[0.5, 0.6], [0.9, 0.4]])
    _, lam = constraint_masks(S, K=2, epsilon=0.5)
    assert lam.tolist() == [[False, True], [True, True]]


def test_integer_program_matches_a_hand_computed_optimum():
    S = np.array([[0.9, 0.8, 0.7, 0.2],
                  [0.1, 0.6, 0.3, 0.5]])
    allowed = np.array([[True, False, True, True],
                        [True, True, True, True]])
    A = solve_assignment(S, allowed, d=2)
    assert A.tolist() == [[1, 0, 1, 0], [0, 1, 0, 1]]


def test_integer_program_agrees_with_brute_force_on_random_problems():
    rng = np.random.default_rng(0)
    for _ in range(20):
        S = rng.uniform(-0.2, 1.0, size=(4, 6))
        allowed = rng.random((4, 6)) < 0.7
        d = int(rng.integers(1, 4))
        A = solve_assignment(S, allowed, d)
        expected = brute_force(S, allowed & (S > 0), d)
        assert (A * S).sum() == pytest.approx((expected * S).sum())
        assert (A <= (allowed & (S > 0))).all() and (A.sum(axis=1) <= d).all()


def test_composed_prototype_is_the_relatedness_weighted_mean():
    S = np.array([[0.8, 0.2, 0.6]])
    seen = np.eye(3)
    protos, A, relaxed = compose(S, seen, K=2, d=3, epsilon=0.5)
    assert A.tolist() == [[1, 0, 1]]
    expected = np.array([0.8, 0.0, 0.6]) / 1.0  # already unit length
    assert np.allclose(protos[0], expected)
    assert not relaxed.any()


def test_an_empty_row_falls_back_to_its_nearest_seen_class_and_says_so():
    S = np.array([[-0.1, -0.3]])  # no positive relatedness: the program selects nothing
    protos, A, relaxed = compose(S, np.eye(2), K=2, d=1, epsilon=0.5)
    assert A.tolist() == [[1, 0]] and relaxed.tolist() == [True]


def test_splits_are_seeded_halves_in_manifest_order():
    classes = [f"c{k}" for k in range(11)]
    splits = make_splits(classes, unseen_percent=50, count=10, seed=3)
    assert splits == make_splits(classes, unseen_percent=50, count=10, seed=3)
    assert splits != make_splits(classes, unseen_percent=50, count=10, seed=4)
    assert len(splits) == 10 and all(len(s) == 5 for s in splits)  # floor(5.5), as the papers
    assert all(s == sorted(s, key=classes.index) for s in splits)
    assert make_splits(classes, unseen_percent=100, count=10, seed=3) == [classes]


def brute_force_coupled(S, allowed, d, capacity):
    """The optimum over every binary A on the allowed positive cells (small problems only)."""
    cells = [(j, i) for j, i in zip(*np.nonzero(allowed & (S > 0)))]
    best, best_value = np.zeros_like(S, dtype=np.int8), 0.0
    for bits in itertools.product((0, 1), repeat=len(cells)):
        A = np.zeros_like(S, dtype=np.int8)
        for bit, cell in zip(bits, cells):
            A[cell] = bit
        if (A.sum(axis=1) <= d).all() and (A.sum(axis=0) <= capacity).all() and (A * S).sum() > best_value:
            best, best_value = A, (A * S).sum()
    return best, best_value


def test_the_capacity_constraint_couples_the_rows_and_cbc_finds_the_optimum():
    # Both unseen classes want seen 0 most; with capacity 1 only one of them may have it.
    S = np.array([[0.9, 0.5, 0.1], [0.8, 0.1, 0.7]])
    A = solve_assignment(S, np.ones_like(S, dtype=bool), d=1, capacity=1)
    assert A.tolist() == [[1, 0, 0], [0, 0, 1]]  # 0.9 + 0.7 beats 0.5 + 0.8
    assert solve_assignment(S, np.ones_like(S, dtype=bool), d=1).tolist() == [[1, 0, 0], [1, 0, 0]]
    rng = np.random.default_rng(1)
    for _ in range(15):
        S = rng.uniform(-0.2, 1.0, size=(3, 4))
        allowed = rng.random((3, 4)) < 0.8
        A = solve_assignment(S, allowed, d=2, capacity=1)
        assert (A.sum(axis=0) <= 1).all() and (A.sum(axis=1) <= 2).all()
        assert np.isclose((A * S).sum(), brute_force_coupled(S, allowed, 2, 1)[1])


def test_table_8_variants_apply_their_constraints():
    rng = np.random.default_rng(0)
    S, seen = rng.uniform(0.05, 1.0, size=(4, 8)), rng.normal(size=(8, 5))
    _, A_none, _ = compose(S, seen, K=2, d=1, epsilon=0.9, variant="prototypes_no_constraint")
    assert A_none.all()  # every positive relation is used
    _, A_I, _ = compose(S, seen, K=2, d=1, epsilon=0.9, variant="prototypes_I")
    assert (A_I.sum(axis=1) == 2).all()  # the K nearest, no limit d
    nearest, lam = constraint_masks(S, 2, 0.9)
    _, A_all, relaxed = compose(S, seen, K=2, d=1, epsilon=0.9, variant="prototypes")
    assert (A_all[~relaxed] <= (nearest & lam)[~relaxed]).all() and (A_all.sum(axis=1) <= 1).all()
    _, A_cap, _ = compose(S, seen, K=8, d=3, epsilon=0.0, variant="prototypes_capacity", capacity=1)
    assert (A_cap.sum(axis=0) <= 1).all()
    with pytest.raises(ValueError, match="unknown composition variant 'fancy'"):
        compose(S, seen, K=2, d=1, epsilon=0.5, variant="fancy")


def test_cross_validation_scores_every_grid_point_on_held_out_seen_classes_and_picks_the_best():
    from zsar.prototypes import cross_validate

    rng = np.random.default_rng(0)
    # 4 base actions and 16 classes that mix two of them, in both spaces alike: a held-out mix
    # is best rebuilt from the two or three classes that share its bases, not from one class.
    base = np.linalg.qr(rng.normal(size=(8, 4)))[0].T
    pairs = [(a, b) for a in range(4) for b in range(4) if a != b][:12] + [(0, 0), (1, 1), (2, 2), (3, 3)]
    vectors = np.array([base[a] + 0.7 * base[b] for a, b in pairs])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.repeat(np.arange(16), 3)
    embeddings = vectors[labels] + 0.05 * rng.normal(size=(48, 8))
    grid = {"epsilon": [0.0], "K": [1, 4], "d": [1, 4]}
    rows, best = cross_validate(vectors, vectors, embeddings, labels, grid, folds=4, seed=0)
    assert [(r["K"], r["d"]) for r in rows] == [(1, 1), (1, 4), (4, 1), (4, 4)]
    assert all(len(r["fold_top1"]) == 4 and 0 <= r["top1"] <= 1 for r in rows)
    assert best["top1"] == max(r["top1"] for r in rows)
    assert rows == cross_validate(vectors, vectors, embeddings, labels, grid, folds=4, seed=0)[0]
    with pytest.raises(ValueError, match="too few"):
        cross_validate(vectors[:5], vectors[:5], embeddings, labels, grid, folds=4)


def test_seen_videos_are_those_of_kept_classes_and_at_most_n_per_class_and_split():
    import pandas as pd

    from zsar.prototypes import select_seen_videos

    rows = [(f"{label}_{split}_{k:02d}", label, split, "clips/x/0.h5")
            for label in ("kept a", "kept b", "removed") for split in ("train", "val", "test") for k in range(7)]
    catalogue = pd.DataFrame(rows, columns=["video_id", "label", "split", "shard_path"])
    every = select_seen_videos(catalogue, ["kept a", "kept b"], None, seed=0)
    assert set(every["label"]) == {"kept a", "kept b"} and set(every["split"]) == {"train", "val"} and len(every) == 28
    three = select_seen_videos(catalogue, ["kept a", "kept b"], 3, seed=0)
    assert three.groupby(["label", "split"]).size().tolist() == [3, 3, 3, 3]
    shuffled = select_seen_videos(catalogue.sample(frac=1, random_state=1), ["kept a", "kept b"], 3, seed=0)
    assert shuffled["video_id"].tolist() == three["video_id"].tolist()  # the draw ignores the row order
    assert select_seen_videos(catalogue, ["kept a", "kept b"], 3, seed=1)["video_id"].tolist() != three["video_id"].tolist()
