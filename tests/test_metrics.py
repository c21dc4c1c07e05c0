import numpy as np
import pytest

from zsar.metrics import mean_std, topk_accuracy


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
