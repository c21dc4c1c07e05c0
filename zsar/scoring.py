"""Split-wise zero-shot scoring of the two paths: word vectors (E2E) and composed prototypes (ResT)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zsar.metrics import mean_std, topk_accuracy
from zsar.semantics import ClassEmbedding, near_pairs

PATHS = {
    "e2e": "nearest class word vector (E2E)",
    "prototypes": "nearest composed prototype (ResT semantic relatedness transfer)",
}


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def score_split(videos: pd.DataFrame, embeddings: np.ndarray, unseen: list[str],
                references: dict[str, np.ndarray]) -> dict:
    """Top-1/top-5 over the videos whose label is among `unseen` (rows aligned), per path.

    `references` maps a path of PATHS to its (n_unseen, dim) rows in `unseen` order: the class
    word vectors for "e2e" (only a model trained into the word-vector space has this path), the
    composed prototypes for "prototypes".
    """
    mask = videos["label"].isin(unseen).to_numpy()
    labels = videos.loc[mask, "label"].map({c: k for k, c in enumerate(unseen)}).to_numpy()
    x = _unit(embeddings[mask])
    out = {"n_videos": int(mask.sum())}
    for path, rows in references.items():
        acc = topk_accuracy(x @ _unit(rows).T, labels, ks=(1, 5))
        out[path] = {"top1": acc[1], "top5": acc[5]}
    return out


def summarise(per_split: list[dict]) -> dict:
    return {path: {"description": PATHS[path],
                   **{k: mean_std([s[path][k] for s in per_split]) for k in ("top1", "top5")}}
            for path in PATHS if path in per_split[0]}


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
