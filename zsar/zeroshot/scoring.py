"""Split-wise zero-shot scoring: word vectors (E2E), composed prototypes (ResT) and its variants,
alignment with atomic actions (JigsawNet)."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
from scipy.stats import skew

from zsar.io import atomic_output
from zsar.semantics.embedding import ClassEmbedding, near_pairs
from zsar.zeroshot.features import STRING
from zsar.zeroshot.metrics import confusion_matrix, mean_std, topk_accuracy, unit

PATHS = {
    "e2e": "nearest class word vector (E2E)",
    "prototypes": "nearest composed prototype, constraints I+II+III (ResT semantic relatedness transfer)",
    "prototypes_no_constraint": "nearest composed prototype, no constraint (ResT Table 8)",
    "prototypes_I": "nearest composed prototype, constraint I only (ResT Table 8)",
    "prototypes_II_III": "nearest composed prototype, constraints II+III (ResT Table 8)",
    "prototypes_capacity": "nearest composed prototype, I+II+III and a capacity per seen class (zsar)",
    "reverse": "reverse transfer in the semantic space: the word vectors of a video's K nearest seen "
               "prototypes, weighted by similarity, against the unseen word vectors (ResT Table 8)",
    "alignment": "group alignment: per segment the best-matching atomic action of the class, averaged "
                 "over segments (JigsawNet Eq. 3-4)",
    "alignment_one_to_one": "one-to-one alignment: the mean segment against the class's mean atomic action "
                            "(JigsawNet Table 3, without group alignment)",
    "prompts": "nearest class prompt through the model's own fine-tuned text tower (ViFi-CLIP, MAXI)",
}


def hubness_skew(scores: np.ndarray) -> float:
    """Skewness of the 1-occurrence distribution: how often each class is the top-scored one.

    A few classes that take most videos (hubs) give a large positive skew (ResT supp. eq. 4).
    """
    occurrences = np.bincount(np.asarray(scores).argmax(axis=1), minlength=np.asarray(scores).shape[1])
    return float(skew(occurrences)) if occurrences.std() > 0 else 0.0


def reverse_transfer_scores(x: np.ndarray, seen_prototypes: np.ndarray, seen_vectors: np.ndarray,
                            unseen_vectors: np.ndarray, K: int) -> np.ndarray:
    """Scores of unit video embeddings `x` against unseen classes through the semantic space.

    Each video becomes the similarity-weighted mean of the word vectors of its K most similar seen
    prototypes (positive similarities only), compared by cosine with the unseen word vectors.
    """
    sims = x @ unit(seen_prototypes).T
    keep = np.zeros_like(sims, dtype=bool)
    np.put_along_axis(keep, np.argsort(-sims, axis=1, kind="stable")[:, :K], True, axis=1)
    weights = np.where(keep & (sims > 0), sims, 0.0)
    return unit(weights @ seen_vectors) @ unit(unseen_vectors).T


def group_alignment(segments, phrases, phrase_class, n_classes: int, chunk: int = 1024) -> np.ndarray:
    """JigsawNet's group alignment (Eq. 3-4) in numpy: per class, the mean over segments of the best cosine
    to any of the class's phrases (zsar/methods/jigsaw/model.py has the torch one training uses).

    segments (n, m, d) (e.g. stored (n, m*d) embeddings reshaped), phrases (P, d), phrase_class (P,)
    ints. Both are normalised here. Videos are scored `chunk` at a time, so memory is
    O(chunk m P). Returns (n, n_classes) float64.
    """
    segments = np.asarray(segments, dtype=np.float64)
    phrases = np.asarray(phrases, dtype=np.float64)
    phrase_class = np.asarray(phrase_class, dtype=np.int64)
    if segments.ndim != 3:
        raise ValueError(f"segments must be (n, m, d), got shape {segments.shape}")
    counts = np.bincount(phrase_class, minlength=n_classes) if phrase_class.size else np.zeros(n_classes, int)
    if phrase_class.size and (phrase_class.min() < 0 or phrase_class.max() >= n_classes):
        raise ValueError(f"phrase_class holds ids outside [0, {n_classes})")
    if (counts == 0).any():
        raise ValueError(f"classes {np.flatnonzero(counts == 0)[:10].tolist()} have no phrases")
    segments, phrases = unit(segments), unit(phrases)
    order = np.argsort(phrase_class, kind="stable")  # phrases grouped by class, classes in order
    grouped = phrases[order].T                          # (d, P)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.empty((segments.shape[0], n_classes))
    for lo in range(0, segments.shape[0], chunk):
        sim = segments[lo:lo + chunk] @ grouped                      # (c, m, P)
        out[lo:lo + chunk] = np.maximum.reduceat(sim, starts, axis=-1).mean(axis=1)
    return out


def one_to_one(segments, phrases, phrase_class, n_classes: int) -> np.ndarray:
    """JigsawNet's ablation without group alignment, in numpy: cos(mean of the unit segments, mean of
    the class's unit phrases). segments (n, m, d), phrases (P, d), phrase_class (P,) ints."""
    sums = np.zeros((n_classes, np.shape(phrases)[1]))
    np.add.at(sums, np.asarray(phrase_class, dtype=np.int64), unit(np.asarray(phrases, dtype=np.float64)))
    return unit(unit(np.asarray(segments, dtype=np.float64)).mean(axis=1)) @ unit(sums).T


ALIGNMENTS = {"group": group_alignment, "one_to_one": one_to_one}


def phrases_chosen(embeddings: np.ndarray, phrases: np.ndarray, phrase_class, labels, objects: bool = False) -> np.ndarray:
    """Per video, how many distinct phrases of its own class its segments align with best: 1 when
    every segment picks the same atomic action, up to m when each picks another (group alignment
    then adds something a single best phrase would not). embeddings (n, m*d), or (n, (m+1)*d) with
    `objects` (the object feature is left out); labels (n,) class indices into phrase_class's numbering."""
    segments = unit(np.asarray(split_objects(embeddings, phrases.shape[1], objects)[0], dtype=np.float64))
    similarity = segments @ unit(np.asarray(phrases, dtype=np.float64)).T         # (n, m, P)
    own = np.asarray(phrase_class)[None, None, :] == np.asarray(labels)[:, None, None]
    best = np.where(own, similarity, -np.inf).argmax(axis=2)                       # (n, m)
    return np.array([len(set(row)) for row in best])


def split_objects(embeddings: np.ndarray, d: int, objects: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Stored video embeddings (n, m*d), or (n, (m+1)*d) from a model with objects, as segments
    (n, m, d) and object features (n, 1, d) or None."""
    n, dim = embeddings.shape
    if dim % d:
        raise ValueError(f"video embeddings of {dim} dimensions are not segments of the phrases' "
                         f"{d}: were the phrases projected by this run's model?")
    parts = np.asarray(embeddings).reshape(n, dim // d, d)
    return (parts[:, :-1], parts[:, -1:]) if objects else (parts, None)


def alignment_scores(embeddings: np.ndarray, phrases: np.ndarray, phrase_class, n_classes: int,
                     alignment: str, objects: bool = False) -> np.ndarray:
    """(n, n_classes) scores of stored segment embeddings (n, m*d) against projected phrases (P, d);
    with `objects`, embeddings (n, (m+1)*d) end with the object feature, and the score adds
    max(the object feature's alignment, 0) (zero object features, videos without objects, add 0)."""
    segments, obj = split_objects(embeddings, phrases.shape[1], objects)
    out = ALIGNMENTS[alignment](segments, phrases, phrase_class, n_classes)
    if obj is not None:
        out = out + np.maximum(ALIGNMENTS[alignment](obj, phrases, phrase_class, n_classes), 0.0)
    return out


def score_split(videos: pd.DataFrame, embeddings: np.ndarray, unseen: list[str],
                references: dict[str, np.ndarray], reverse: dict | None = None, scorers: dict | None = None) -> dict:
    """Per path, over the videos whose label is among `unseen` (rows aligned): top-1, top-5, the
    hubness skew, per-class top-1, and (under "confusion") the confusion matrix, true x predicted.

    `references` maps a path of PATHS to its (n_unseen, dim) rows in `unseen` order: the class
    word vectors for "e2e" (only a model trained into the word-vector space has this path), the
    composed prototypes for the "prototypes*" paths. `reverse`, with keys seen_prototypes,
    seen_vectors, unseen_vectors and K, adds the "reverse" path. `scorers` maps other paths to a
    function of the scored videos' embeddings giving their (n, n_unseen) scores (alignment paths).
    """
    mask = videos["label"].isin(unseen).to_numpy()
    labels = videos.loc[mask, "label"].map({c: k for k, c in enumerate(unseen)}).to_numpy()
    x = unit(embeddings[mask])
    scores = {path: x @ unit(rows).T for path, rows in references.items()}
    if reverse is not None:
        scores["reverse"] = reverse_transfer_scores(x, **reverse)
    for path, scorer in (scorers or {}).items():
        scores[path] = scorer(embeddings[mask])
    out = {"n_videos": int(mask.sum())}
    for path, path_scores in scores.items():
        acc = topk_accuracy(path_scores, labels, ks=(1, 5))
        confusion = confusion_matrix(labels, path_scores.argmax(axis=1), len(unseen))
        with np.errstate(invalid="ignore"):
            per_class = np.diag(confusion) / confusion.sum(axis=1)
        out[path] = {"top1": acc[1], "top5": acc[5], "hubness_skew": hubness_skew(path_scores),
                     "per_class_top1": {c: (None if np.isnan(a) else float(a)) for c, a in zip(unseen, per_class)},
                     "confusion": confusion}
    return out


def summarise(per_split: list[dict]) -> dict:
    return {path: {"description": PATHS[path],
                   **{k: mean_std([s[path][k] for s in per_split]) for k in ("top1", "top5", "hubness_skew")}}
            for path in PATHS if path in per_split[0]}


def write_confusions(path, splits: list[list[str]], confusions: dict[str, np.ndarray]) -> None:
    """results/.../*.confusion.h5: per split its unseen classes (split_k/classes) and, under
    split_k/<path>, the confusion matrix of each path (rows: true class, columns: predicted)."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["rows"], f.attrs["columns"] = "true class", "predicted class"
        for k, unseen in enumerate(splits):
            f.create_dataset(f"split_{k}/classes", data=np.array(unseen, dtype=object), dtype=STRING)
        for name, matrix in confusions.items():
            f.create_dataset(name, data=matrix)


def read_confusions(path) -> list[dict]:
    """Per split of a confusion file (`write_confusions`): {"classes": its unseen classes, "paths":
    {path: confusion matrix}}, in split order."""
    from zsar.io import open_h5

    with open_h5(path) as f:
        splits = sorted(f, key=lambda name: int(name.split("_")[1]))
        return [{"classes": f[s]["classes"].asstr()[:].tolist(),
                 "paths": {p: f[s][p][:] for p in f[s] if p != "classes"}} for s in splits]


class ProtocolError(ValueError):
    """Scoring would break the zero-shot protocol."""


def check_unseen(trained: ClassEmbedding, target: ClassEmbedding, tau: float, target_name: str) -> None:
    """Refuse a target with a class within tau of a class the model was trained on."""
    pairs = near_pairs(trained, target, tau)
    if pairs:
        listed = "".join(f"\n  {t!r} ~ trained {s!r}: distance {d:.4f}" for s, t, d in pairs[:20])
        more = f"\n  ... and {len(pairs) - 20} more" if len(pairs) > 20 else ""
        raise ProtocolError(
            f"{len(pairs)} class pair(s) of target '{target_name}' lie within tau = {tau} of classes the "
            f"model was trained on, so they are not unseen:{listed}{more}\n"
            f"Add '{target_name}' to the run's targets in config.yaml so that filter_overlap removes "
            "those classes from training, then rerun."
        )
