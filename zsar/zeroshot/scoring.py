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
