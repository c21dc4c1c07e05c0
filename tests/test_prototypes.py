import itertools

import numpy as np
import pytest

from zsar.io import write_json
from zsar.zeroshot.prototypes import compose, constraint_masks, solve_assignment
from zsar.zeroshot.splits import SplitsError, expected_unseen, make_splits, read_splits


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


@pytest.mark.parametrize("change, message", [
    (lambda s: s["splits"][1].__setitem__(1, s["splits"][1][0]), "split 1 lists 'c0' more than once"),
    (lambda s: s["splits"][0].pop(), "split 0 holds 4 classes, but protocol 0/50 of 11 classes has 5 unseen"),
    (lambda s: s["splits"][2].__setitem__(0, "c99"), "split 2 names 'c99', which is not a class of toy"),
    (lambda s: s["splits"][0].__setitem__(0, "c10x"), "(did you mean 'c10'?)"),
    (lambda s: s.update(protocol="half"), "protocol 'half' is not of the form seen/unseen"),
])
def test_a_split_file_that_does_not_hold_its_protocol_is_refused_by_name(tmp_path, change, message):
    classes = [f"c{k}" for k in range(11)]
    splits = {"target": "toy", "protocol": "0/50", "n_classes": 11,
              "splits": [["c0", "c1", "c2", "c3", "c4"], ["c0", "c5", "c6", "c7", "c8"], ["c1", "c2", "c3", "c9", "c10"]]}
    write_json(tmp_path / "toy_0_50.json", splits)
    assert read_splits(tmp_path / "toy_0_50.json", classes)["n_unseen"] == 5
    change(splits)
    write_json(tmp_path / "toy_0_50.json", splits)
    with pytest.raises(SplitsError) as error:
        read_splits(tmp_path / "toy_0_50.json", classes)
    assert message in str(error.value) and str(error.value).startswith(f"{tmp_path / 'toy_0_50.json'}: ")
    assert "delete it and run snakemake again" in str(error.value)


def test_a_published_protocol_counts_its_unseen_classes():
    assert expected_unseen("0/50", 101) == 50 and expected_unseen("0/50", 51) == 25
    assert expected_unseen("0/100", 101) == 101 and expected_unseen("60/160", 220) == 160


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
    from zsar.zeroshot.prototypes import select_composition

    # A held-out mix is best rebuilt from the two or three classes that share its bases, not from one.
    vectors, embeddings, labels = mixed_classes()
    grid = {"epsilon": [0.0], "K": [1, 4], "d": [1, 4]}
    record = select_composition(vectors, vectors, embeddings, labels, grid, n_unseen=4, rule="best", folds=4, seed=0)
    rows = record["grid"]
    assert [(r["K"], r["d"]) for r in rows] == [(1, 1), (1, 4), (4, 1), (4, 4)]
    assert all(len(r["round_top1"]) == 4 and 0 <= r["top1"] <= 1 for r in rows)
    assert record["top1"] == max(r["top1"] for r in rows) and record["folds"] == 4
    again = select_composition(vectors, vectors, embeddings, labels, grid, n_unseen=4, rule="best", folds=4, seed=0)
    assert rows == again["grid"]
    with pytest.raises(ValueError, match="too few"):
        select_composition(vectors[:5], vectors[:5], embeddings, labels, grid, n_unseen=2, rule="best", folds=4)


def test_seen_videos_are_those_of_kept_classes_and_at_most_n_per_class_and_split():
    import pandas as pd

    from zsar.zeroshot.prototypes import select_seen_videos

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


def test_row_wise_top_d_is_the_optimum_cbc_finds():
    rng = np.random.default_rng(1)
    for _ in range(10):
        S = rng.uniform(-0.2, 1.0, size=(5, 8))
        allowed = rng.random((5, 8)) < 0.7
        d = int(rng.integers(1, 5))
        # a capacity no column can reach sends the same program to CBC
        assert solve_assignment(S, allowed, d).tolist() == solve_assignment(S, allowed, d, capacity=100).tolist()


def grid_rows(points):
    return [{"epsilon": e, "K": K, "d": d, "top1": top1, "se": se} for e, K, d, top1, se in points]


def test_one_se_rule_picks_the_most_conservative_point_among_near_ties_whatever_the_grid_order():
    from zsar.zeroshot.prototypes import choose_best, choose_one_se

    rows = grid_rows([(0.5, 5, 5, 0.80, 0.02),   # best mean; within one SE: >= 0.78
                      (0.5, 1, 5, 0.79, 0.03),   # smallest K, but d = 5
                      (0.3, 3, 3, 0.79, 0.02),
                      (0.7, 3, 3, 0.785, 0.02),  # d 3, K 3, and the largest epsilon among them
                      (0.9, 1, 1, 0.70, 0.02)])  # the simplest, but more than one SE behind
    assert choose_best(rows)["epsilon"] == 0.5 and choose_best(rows)["d"] == 5
    expected = (0.7, 3, 3)
    for order in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 3, 1]):
        chosen = choose_one_se([rows[k] for k in order])
        assert (chosen["epsilon"], chosen["K"], chosen["d"]) == expected
    # K breaks ties of d before epsilon does
    rows.append({"epsilon": 0.3, "K": 2, "d": 3, "top1": 0.781, "se": 0.02})
    assert (choose_one_se(rows)["K"], choose_one_se(rows)["epsilon"]) == (2, 0.3)


def test_one_se_rule_picks_the_best_point_when_it_is_clearly_ahead():
    from zsar.zeroshot.prototypes import choose_one_se

    rows = grid_rows([(0.9, 1, 1, 0.60, 0.01), (0.3, 10, 5, 0.90, 0.01), (0.5, 3, 3, 0.85, 0.03)])
    chosen = choose_one_se(rows)
    assert (chosen["epsilon"], chosen["K"], chosen["d"]) == (0.3, 10, 5)


def test_held_out_size_follows_the_unseen_count_keeps_half_the_seen_classes_and_holds_out_two():
    from zsar.zeroshot.prototypes import held_out_size

    assert held_out_size(28, 10) == 10   # 0/50 of 20 target classes
    assert held_out_size(28, 20) == 14   # 0/100: capped, 14 of 28 stay in
    assert held_out_size(27, 20) == 13   # 14 stay in
    assert held_out_size(50, 1) == 2
    assert held_out_size(4, 3) == 2
    with pytest.raises(ValueError, match="too few"):
        held_out_size(3, 1)


def test_repeated_rounds_are_seeded_fresh_draws():
    from zsar.zeroshot.prototypes import random_rounds

    rounds = random_rounds(28, 10, 20, seed=0)
    assert len(rounds) == 20 and all(len(r) == 10 == len(set(r.tolist())) for r in rounds)
    assert all(0 <= r.min() and r.max() < 28 for r in rounds)
    assert len({tuple(r) for r in rounds}) == 20  # each round draws afresh
    assert [r.tolist() for r in random_rounds(28, 10, 20, seed=0)] == [r.tolist() for r in rounds]
    assert [r.tolist() for r in random_rounds(28, 10, 20, seed=1)] != [r.tolist() for r in rounds]
    assert [r.tolist() for r in random_rounds(28, 10, 5, seed=0)] == [r.tolist() for r in rounds[:5]]
    with pytest.raises(ValueError):
        random_rounds(28, 10, 1, seed=0)


def mixed_classes():
    """16 seen classes that mix two of 4 base actions, alike in both spaces, and 3 videos each."""
    rng = np.random.default_rng(0)
    base = np.linalg.qr(rng.normal(size=(8, 4)))[0].T
    pairs = [(a, b) for a in range(4) for b in range(4) if a != b][:12] + [(0, 0), (1, 1), (2, 2), (3, 3)]
    vectors = np.array([base[a] + 0.7 * base[b] for a, b in pairs])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.repeat(np.arange(16), 3)
    return vectors, rng.normal(size=(48, 8)) * 0.05 + vectors[labels], labels


def test_selection_takes_seen_data_and_an_unseen_count_only_and_records_its_rule():
    import inspect
    import json

    from zsar.zeroshot.prototypes import held_out_size, select_composition

    assert list(inspect.signature(select_composition).parameters) == [
        "seen_prototypes_", "seen_vectors", "embeddings", "labels", "grid", "n_unseen", "rule", "repeats", "folds",
        "seed"]
    vectors, embeddings, labels = mixed_classes()
    grid = {"epsilon": [0.0, 0.5], "K": [1, 4], "d": [1, 4]}
    record = select_composition(vectors, vectors, embeddings, labels, grid, n_unseen=5, repeats=6, seed=0)
    assert record["rule"] == "one_se" and record["repeats"] == 6 and record["held_out"] == held_out_size(16, 5) == 5
    assert len(record["grid"]) == 8 and all(len(r["round_top1"]) == 6 and r["se"] >= 0 for r in record["grid"])
    chosen = next(r for r in record["grid"] if all(r[k] == record["chosen"][k] for k in ("epsilon", "K", "d")))
    assert chosen["top1"] >= record["best"]["top1"] - record["best"]["se"]
    json.dumps(record)  # composition_{target}_{seen}_{unseen}.json
    assert select_composition(vectors, vectors, embeddings, labels, grid, n_unseen=20, repeats=6)["held_out"] == 8
    assert select_composition(vectors, vectors, embeddings, labels, grid, n_unseen=5, repeats=6, seed=0) == record
    paper = select_composition(vectors, vectors, embeddings, labels, grid, n_unseen=5, rule="best", folds=4)
    assert paper["rule"] == "best" and paper["folds"] == 4 and "repeats" not in paper
    assert paper["chosen"] == {k: max(paper["grid"], key=lambda r: r["top1"])[k] for k in ("epsilon", "K", "d")}
    with pytest.raises(TypeError, match="unseen-class count"):  # never the unseen classes themselves
        select_composition(vectors, vectors, embeddings, labels, grid, n_unseen=["class a", "class b"])
    with pytest.raises(ValueError, match="unknown selection rule"):
        select_composition(vectors, vectors, embeddings, labels, grid, n_unseen=5, rule="hindsight")


def test_the_full_class_protocol_scores_all_classes_on_each_official_splits_test_videos(tmp_path):
    """UCF101's testlist01-03 (and HMDB51's split 1-3 test clips) each a split of all the classes."""
    from zsar.zeroshot.splits import protocol_splits, read_splits, write_splits

    lists = tmp_path / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 Archery\n")
    for k, group in ((1, "01"), (2, "08"), (3, "15")):
        (lists / f"trainlist0{k}.txt").write_text(f"Archery/v_Archery_g{'21' if k != 3 else '02'}_c01.avi 2\n")
        (lists / f"testlist0{k}.txt").write_text(f"ApplyEyeMakeup/v_ApplyEyeMakeup_g{group}_c01.avi\n"
                                                 f"Archery/v_Archery_g{group}_c02.avi\n")
    manifest = {"name": "UCF101", "layout_kind": "ucf101", "classes": [{"name": "ApplyEyeMakeup"}, {"name": "Archery"}]}
    splits = protocol_splits("ucf101", manifest, 0, "full", count=10, seed=0, root=tmp_path)
    assert splits["protocol"] == "0/full" and splits["splits"] == [["ApplyEyeMakeup", "Archery"]] * 3
    assert splits["videos"][1] == ["v_ApplyEyeMakeup_g08_c01", "v_Archery_g08_c02"]
    write_splits(tmp_path / "ucf101_0_full.json", splits)
    assert read_splits(tmp_path / "ucf101_0_full.json", ["ApplyEyeMakeup", "Archery"])["n_unseen"] == 2
    with pytest.raises(ValueError, match="has no official splits"):
        protocol_splits("synthetic", {"name": "Synthetic", "layout_kind": "annotations_csv",
                                      "classes": [{"name": "a"}]}, 0, "full", count=1, seed=0, root=tmp_path)


def test_a_split_of_official_test_lists_scores_its_own_videos_only():
    import pandas as pd

    from zsar.zeroshot.evaluation import split_videos

    videos = pd.DataFrame({"video_id": ["a", "b", "c"], "label": ["x", "y", "x"]})
    embeddings = np.arange(6, dtype=np.float32).reshape(3, 2)
    chosen, rows = split_videos({"splits": [["x", "y"]] * 2, "videos": [["a"], ["b", "c"]]}, 1, videos, embeddings)
    assert chosen["video_id"].tolist() == ["b", "c"] and rows.tolist() == [[2, 3], [4, 5]]
    assert split_videos({"splits": [["x"]]}, 0, videos, embeddings)[0] is videos  # a 0/N split: all of them
