import numpy as np
import pytest

from zsar.zeroshot.metrics import mean_std, topk_accuracy


def test_topk_on_hand_made_scores():
    scores = np.array([
        [0.9, 0.1, 0.0],   # label 0: top-1 hit
        [0.5, 0.4, 0.1],   # label 1: second -> top-2 hit only
        [0.2, 0.3, 0.1],   # label 2: last -> miss at k=1 and k=2
        [0.0, 0.0, 1.0],   # label 2: top-1 hit
    ])
    labels = np.array([0, 1, 2, 2])
    assert topk_accuracy(scores, labels, ks=(1, 2, 3)) == {1: 0.5, 2: 0.75, 3: 1.0}


def test_ties_go_to_the_lower_class_index():
    scores = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert topk_accuracy(scores, np.array([0, 1]), ks=(1,)) == {1: 0.5}


def test_k_beyond_the_class_count_is_a_hit():
    assert topk_accuracy(np.array([[0.1, 0.2]]), np.array([0]), ks=(5,)) == {5: 1.0}


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="scores must be"):
        topk_accuracy(np.zeros((3, 2)), np.zeros(2, dtype=int))


def test_mean_std_is_population_std():
    assert mean_std([0.2, 0.4]) == pytest.approx({"mean": 0.3, "std": 0.1})


def test_confusion_matrix_rows_are_true_classes():
    from zsar.zeroshot.metrics import confusion_matrix

    assert confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3).tolist() == \
        [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def test_hubness_skew_is_the_skewness_of_the_1_occurrence_counts():
    from zsar.zeroshot.scoring import hubness_skew

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(200, 10))
    scores[:, 3] += 1.0  # class 3 becomes a hub
    counts = np.bincount(scores.argmax(axis=1), minlength=10).astype(float)
    direct = ((counts - counts.mean()) ** 3).mean() / counts.std() ** 3
    assert np.isclose(hubness_skew(scores), direct) and direct > 2
    assert hubness_skew(np.eye(4)) == 0.0  # every class chosen once: no hub


def test_score_split_reports_per_class_accuracy_and_the_reverse_path():
    import pandas as pd

    from zsar.zeroshot.scoring import score_split

    videos = pd.DataFrame({"label": ["a", "a", "b", "c"]})
    embeddings = np.array([[1.0, 0], [0.9, 0.1], [0, 1.0], [5.0, 5.0]])
    prototypes = np.array([[1.0, 0], [0, 1.0]])
    out = score_split(videos, embeddings, ["a", "b"], {"prototypes": prototypes},
                      reverse={"seen_prototypes": np.eye(2), "seen_vectors": np.array([[0.0, 1.0], [1.0, 0.0]]),
                               "unseen_vectors": prototypes, "K": 1})
    assert out["n_videos"] == 3 and out["prototypes"]["top1"] == 1.0
    assert out["prototypes"]["per_class_top1"] == {"a": 1.0, "b": 1.0}
    assert out["prototypes"]["confusion"].tolist() == [[2, 0], [0, 1]]
    # reverse: a video near seen 0 takes seen 0's word vector, which is unseen b's
    assert out["reverse"]["top1"] == 0.0 and out["reverse"]["confusion"].tolist() == [[0, 2], [1, 0]]
