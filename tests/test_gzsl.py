"""Generalized zero-shot scoring: the seen-unseen trade-off, and a calibration that never sees a test video."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zsar.zeroshot import gzsl


def scores_of(seed=0, n_seen=4, n_unseen=3, per_class=6, bias=0.8):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_seen + n_unseen), per_class)
    scores = rng.normal(size=(len(labels), n_seen + n_unseen))
    scores[np.arange(len(labels)), labels] += 1.5
    scores[:, :n_seen] += bias  # a model favours the classes it trained on
    return scores, labels


def test_accuracy_is_per_class_and_the_harmonic_mean_punishes_a_side_at_zero():
    labels = np.array([0, 0, 0, 1, 2])  # seen class 0 has three videos, seen 1 one, unseen 2 one
    scores = np.eye(3)[[0, 1, 1, 1, 0]]  # right, wrong, wrong, right; the unseen video goes to seen 0
    result = gzsl.accuracies(scores, labels, n_seen=2, gamma=0.0)
    assert result == {"seen": pytest.approx((1 / 3 + 1) / 2), "unseen": 0.0, "harmonic": 0.0}
    # a penalty larger than the seen scores' lead gives every video to the unseen class
    assert gzsl.accuracies(scores, labels, 2, gamma=2.0) == {"seen": 0.0, "unseen": 1.0, "harmonic": 0.0}


def test_the_curve_is_every_penalty_and_its_area_is_between_the_two_ends():
    scores, labels = scores_of()
    area, curve = gzsl.ausuc(scores, labels, 4)
    for gamma in np.unique(gzsl.margins(scores, 4)):
        point = gzsl.accuracies(scores, labels, 4, gamma + 1e-9)
        assert np.isclose(curve, [point["unseen"], point["seen"]]).all(axis=1).any(), (gamma, point)
    assert curve[0, 0] == 0 and curve[-1, 1] == pytest.approx(0)  # all seen at one end, all unseen at the other
    assert 0 < area < curve[:, 1].max() * curve[:, 0].max()
    kept = gzsl.curve_at(curve)  # what a results file keeps: seen accuracy at unseen 0, 0.05, ..., 1
    assert kept[0] == pytest.approx(curve[:, 1].max()) and kept[-1] is None  # this model never gets every unseen video
    values = [v for v in kept if v is not None]
    assert values == sorted(values, reverse=True)


def test_the_penalty_gives_the_chosen_share_of_calibration_videos_to_new_classes():
    scores, labels = scores_of(per_class=50)
    calibration = scores[labels < 4]
    for share in (0.1, 0.3):
        gamma = gzsl.calibrate(calibration, 4, share)
        assert np.mean(gzsl.margins(calibration, 4) <= gamma) == pytest.approx(share, abs=0.01)
    # calibrated stacking trades seen accuracy for unseen: H rises on a biased model
    gamma = gzsl.calibrate(calibration, 4, 0.3)
    raw, calibrated = gzsl.accuracies(scores, labels, 4, 0.0), gzsl.accuracies(scores, labels, 4, gamma)
    assert calibrated["unseen"] > raw["unseen"] and calibrated["harmonic"] > raw["harmonic"]


def test_the_held_out_videos_split_in_halves_per_class_whatever_their_order():
    videos = pd.DataFrame({"video_id": [f"v{k}" for k in range(9)], "label": list("aaaabbbbb")})
    calibration, test = gzsl.split_held_out(videos, seed=0)
    assert (calibration ^ test).all()
    assert calibration[:4].sum() == 2 and calibration[4:].sum() == 2  # the odd one tests
    shuffled = videos.sample(frac=1, random_state=1)
    again, _ = gzsl.split_held_out(shuffled.reset_index(drop=True), seed=0)
    assert set(shuffled["video_id"][again]) == set(videos["video_id"][calibration])
    other, _ = gzsl.split_held_out(videos, seed=1)
    assert not (other == calibration).all()


def test_the_penalty_is_chosen_without_any_test_video():
    rng = np.random.default_rng(0)
    references, seen_x, calibration_x = rng.normal(size=(7, 8)), rng.normal(size=(12, 8)), rng.normal(size=(12, 8))
    seen_labels = np.repeat(np.arange(4), 3)
    unseen_labels = np.repeat(np.arange(4, 7), 2)
    first = gzsl.score_gzsl_split(seen_x, seen_labels, calibration_x, rng.normal(size=(6, 8)), unseen_labels,
                                  references, 4, 0.1)
    other = gzsl.score_gzsl_split(rng.normal(size=(12, 8)), seen_labels, calibration_x, rng.normal(size=(6, 8)),
                                  unseen_labels, references, 4, 0.1)
    assert first["calibrated"]["gamma"] == other["calibrated"]["gamma"]
    assert first["uncalibrated"] != other["uncalibrated"]
