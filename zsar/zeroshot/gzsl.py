"""Generalized zero-shot scoring (results/{run}/{target}_gzsl_{unseen}.json; docs/gzsl.md).

The test set holds both kinds of video: the source's held-out videos of the classes the model trained on
(seen) and the target's videos of a split's unseen classes; each is labelled among all of them, seen and
unseen. Reported per split, as the GZSL literature does: the mean per-class top-1 over the seen classes
(s), over the unseen classes (u), and their harmonic mean H = 2su / (s + u).

A model scores its own classes higher than new ones, so most unseen videos go to a seen class.
Calibrated stacking (Chao et al., ECCV 2016) subtracts a penalty gamma from every seen class's score. Here
gamma is chosen on seen classes alone, never on a test video or an unseen label: half of the held-out
seen videos (per class, drawn with the seed) are set aside, and gamma is the `seen_to_unseen` quantile of
their margins (best seen score minus best unseen score), so that this share of seen videos would be
given to a new class. The other half is the seen test set. AUSUC, the area under the seen-unseen
accuracy curve as gamma sweeps every value, summarises the trade-off without choosing one.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from zsar.zeroshot.metrics import unit


def split_held_out(videos: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (calibration, test) over `videos` (video_id, label): per class, half of its videos
    (the odd one to the test side) drawn with `seed`, whatever the table's order."""
    calibration = np.zeros(len(videos), dtype=bool)
    for label, rows in videos.groupby("label", sort=True).indices.items():
        rows = rows[np.argsort(videos["video_id"].to_numpy()[rows], kind="stable")]
        key = int.from_bytes(hashlib.blake2b(str(label).encode(), digest_size=8).digest(), "little")
        order = np.random.default_rng([seed, key]).permutation(len(rows))
        calibration[rows[order[: len(rows) // 2]]] = True
    return calibration, ~calibration


def margins(scores: np.ndarray, n_seen: int) -> np.ndarray:
    """Per video, its best seen-class score minus its best unseen-class score (columns: seen first)."""
    return scores[:, :n_seen].max(axis=1) - scores[:, n_seen:].max(axis=1)


def calibrate(calibration_scores: np.ndarray, n_seen: int, seen_to_unseen: float) -> float:
    """The penalty that gives `seen_to_unseen` of the calibration (seen) videos to an unseen class."""
    return float(np.quantile(margins(calibration_scores, n_seen), seen_to_unseen))


def _class_weights(labels: np.ndarray) -> np.ndarray:
    """Each video's weight in a mean per-class accuracy over the classes present in `labels`."""
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return 1.0 / (counts[inverse] * len(classes))


def accuracies(scores: np.ndarray, labels: np.ndarray, n_seen: int, gamma: float) -> dict:
    """Mean per-class top-1 over the seen (label < n_seen) and the unseen videos, and their harmonic mean,
    with `gamma` taken off the seen classes' scores."""
    predicted = (scores - gamma * (np.arange(scores.shape[1]) < n_seen)).argmax(axis=1)
    correct = predicted == labels
    seen = labels < n_seen
    s = float((correct[seen] * _class_weights(labels[seen])).sum())
    u = float((correct[~seen] * _class_weights(labels[~seen])).sum())
    return {"seen": s, "unseen": u, "harmonic": 2 * s * u / (s + u) if s + u > 0 else 0.0}


def ausuc(scores: np.ndarray, labels: np.ndarray, n_seen: int) -> tuple[float, np.ndarray]:
    """The area under the seen-unseen accuracy curve (Chao et al. 2016) and the curve itself, (k, 2)
    rows of (unseen, seen) accuracy as gamma grows through every video's margin.

    With gamma a seen video is right when its best seen class is its own and its margin exceeds gamma;
    an unseen video when its best unseen class is its own and its margin does not.
    """
    seen = labels < n_seen
    m = margins(scores, n_seen)
    own_seen = scores[:, :n_seen].argmax(axis=1) == labels
    own_unseen = scores[:, n_seen:].argmax(axis=1) + n_seen == labels
    w = np.zeros(len(labels))
    w[seen], w[~seen] = _class_weights(labels[seen]), _class_weights(labels[~seen])
    thresholds = np.concatenate([[-np.inf], np.unique(m)])

    def weight_at_or_below(mask):  # per threshold, the weight of the `mask` videos whose margin is <= it
        order = np.argsort(m[mask], kind="stable")
        cumulative = np.concatenate([[0.0], np.cumsum(w[mask][order])])
        return cumulative[np.searchsorted(m[mask][order], thresholds, side="right")]

    right_seen, right_unseen = seen & own_seen, ~seen & own_unseen
    seen_acc = w[right_seen].sum() - weight_at_or_below(right_seen)
    unseen_acc = weight_at_or_below(right_unseen)
    curve = np.column_stack([unseen_acc, seen_acc])
    return float(np.trapezoid(curve[:, 1], curve[:, 0])), curve


CURVE_GRID = np.linspace(0, 1, 21)  # unseen accuracies at which a result keeps its curve


def curve_at(curve: np.ndarray) -> list[float | None]:
    """The best seen accuracy with at least each CURVE_GRID unseen accuracy (None past the curve's end):
    the seen-unseen curve of `ausuc` in 21 numbers, for a results file and its plot."""
    return [float(curve[curve[:, 0] >= u - 1e-12, 1].max()) if (curve[:, 0] >= u - 1e-12).any() else None
            for u in CURVE_GRID]


def score_gzsl_split(seen_x: np.ndarray, seen_labels: np.ndarray, calibration_x: np.ndarray, unseen_x: np.ndarray,
                     unseen_labels: np.ndarray, references: np.ndarray, n_seen: int, seen_to_unseen: float) -> dict:
    """One split's GZSL figures for one path: `references` (n_seen + n_unseen, dim), seen classes first;
    labels index them. Seen test, calibration and unseen test embeddings are scored by cosine."""
    r = unit(references).T
    scores = np.concatenate([unit(seen_x) @ r, unit(unseen_x) @ r])
    labels = np.concatenate([seen_labels, unseen_labels])
    gamma = calibrate(unit(calibration_x) @ r, n_seen, seen_to_unseen)
    area, curve = ausuc(scores, labels, n_seen)
    unseen_only = (unit(unseen_x) @ r[:, n_seen:]).argmax(axis=1) + n_seen == unseen_labels
    zsl = float((unseen_only * _class_weights(unseen_labels)).sum())
    return {"uncalibrated": accuracies(scores, labels, n_seen, 0.0),
            "calibrated": {**accuracies(scores, labels, n_seen, gamma), "gamma": gamma},
            "ausuc": area, "zsl_unseen": zsl, "curve": curve_at(curve)}


PATHS = {
    "e2e": "class word vectors, seen and unseen (E2E)",
    "prototypes": "seen prototypes (the mean of the class's training videos) and composed unseen prototypes (ResT)",
}


def score_gzsl(inputs: dict, json_path, *, run: str, target: str, protocol: str, tau: float, config: dict,
               seen_to_unseen: float, seed: int, log=print) -> None:
    """results/{run}/{target}_gzsl_{unseen}.json from the inputs of the 0/N result of the same splits
    (zsar.pipeline.plan gzsl_inputs) and the source's held-out seen videos."""
    from zsar.io import read_parquet, write_json
    from zsar.methods import method as method_spec
    from zsar.pipeline.provenance import code_version
    from zsar.zeroshot.evaluation import read_checked_classes, read_composed_for, split_videos
    from zsar.zeroshot.features import read_features
    from zsar.zeroshot.metrics import mean_std
    from zsar.zeroshot.prototypes import read_seen_prototypes
    from zsar.zeroshot.splits import read_splits

    vectors, source, model = read_checked_classes(inputs, target, tau)
    trained = model["classes"]

    # the seen side: the source's held-out (val) videos of the trained classes, half to calibrate gamma
    held, held_x = read_features(inputs["seen_features"])
    split = held.merge(read_parquet(inputs["source_index"])[["video_id", "split"]], on="video_id", how="left")["split"]
    keep = ((split == "val") & held["label"].isin(trained)).to_numpy()
    held, held_x = held[keep].reset_index(drop=True), held_x[keep]
    calibration, seen_test = split_held_out(held, seed)
    missing = sorted(set(trained) - set(held.loc[calibration, "label"]))
    if missing:
        raise ValueError(f"{inputs['seen_features']}: {len(missing)} trained class(es) have fewer than 2 held-out "
                         f"(val) videos, one to calibrate and one to test on, e.g. {missing[:5]}. GZSL needs a "
                         "source with val videos of every class (seen_prototypes.videos_per_class draws them)")
    class_of = {c: k for k, c in enumerate(trained)}
    seen_labels = held.loc[seen_test, "label"].map(class_of).to_numpy()

    videos, embeddings = read_features(inputs["features"])
    splits = read_splits(inputs["splits"], vectors.names)
    spec = method_spec(model["method"])
    seen_classes, seen_prototypes = read_seen_prototypes(inputs["seen"])
    seen_prototypes = seen_prototypes[[seen_classes.index(c) for c in trained]]
    _, composed = read_composed_for(inputs, splits)

    per_split = []
    for k, (unseen, composition) in enumerate(zip(splits["splits"], composed)):
        split_v, split_x = split_videos(splits, k, videos, embeddings)
        mask = split_v["label"].isin(unseen).to_numpy()
        unseen_labels = split_v.loc[mask, "label"].map({c: len(trained) + j for j, c in enumerate(unseen)}).to_numpy()
        references = {"prototypes": np.concatenate([seen_prototypes, composition["prototypes"]["prototypes"]])}
        if "word_vectors" in spec.scores:
            references = {"e2e": np.concatenate([source.vectors_of(trained), vectors.vectors_of(unseen)]), **references}
        result = {"n_seen_videos": int(seen_test.sum()), "n_calibration_videos": int(calibration.sum()),
                  "n_unseen_videos": int(mask.sum())}
        for path, rows in references.items():
            result[path] = score_gzsl_split(held_x[seen_test], seen_labels, held_x[calibration], split_x[mask],
                                            unseen_labels, rows, len(trained), seen_to_unseen)
        per_split.append(result)
        log(f"split {k}: " + "; ".join(
            f"{p} s {r['uncalibrated']['seen']:.3f} u {r['uncalibrated']['unseen']:.3f} H {r['uncalibrated']['harmonic']:.3f}"
            f" -> calibrated (gamma {r['calibrated']['gamma']:.3f}) s {r['calibrated']['seen']:.3f} "
            f"u {r['calibrated']['unseen']:.3f} H {r['calibrated']['harmonic']:.3f}"
            for p, r in result.items() if p in PATHS))

    def summary(path):
        out = {"description": PATHS[path]}
        for setting in ("uncalibrated", "calibrated"):
            keys = ("seen", "unseen", "harmonic") + (("gamma",) if setting == "calibrated" else ())
            out[setting] = {key: mean_std([s[path][setting][key] for s in per_split]) for key in keys}
        out["ausuc"] = mean_std([s[path]["ausuc"] for s in per_split])
        out["zsl_unseen"] = mean_std([s[path]["zsl_unseen"] for s in per_split])
        curves = [s[path]["curve"] for s in per_split]  # the mean where every split's curve reaches
        out["curve"] = {"unseen": CURVE_GRID.round(2).tolist(),
                        "seen": [None if None in c else float(np.mean(c)) for c in zip(*curves)]}
        return out

    write_json(json_path, {
        "setting": "generalized zero-shot: seen and unseen classes in the test set and the label space",
        "target": target, "protocol": f"gzsl_{protocol.split('_')[1]}", "splits_of": protocol, "run": run,
        "method": model["method"], "n_splits": len(per_split), "seen_classes": len(trained),
        "unseen_classes_per_split": len(splits["splits"][0]),
        "metric": "mean per-class top-1 over seen (s) and unseen (u) classes; harmonic mean H = 2su/(s+u)",
        "calibration": {"method": "calibrated stacking: gamma off every seen class's score",
                        "chosen_on": "half of the source's held-out (val) videos of the trained classes, per class",
                        "seen_to_unseen": seen_to_unseen, "seed": seed},
        **{path: summary(path) for path in PATHS if path in per_split[0]},
        "splits": per_split, "config": config, "code_version": code_version(),
    })
