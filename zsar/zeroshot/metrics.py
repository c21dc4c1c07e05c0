"""Accuracy metrics and the unit-length rows every cosine here is computed from, in numpy."""

from __future__ import annotations

import numpy as np


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, ks=(1, 5)) -> dict[int, float]:
    """Fraction of rows whose true label is among the k highest scores, for each k.

    scores: (n_samples, n_classes); labels: (n_samples,) class indices. Ties are broken in favour
    of the lower class index, so the result never depends on sort instability.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.ndim != 2 or labels.shape != (scores.shape[0],):
        raise ValueError(f"scores must be (n, C) and labels (n,), got {scores.shape} and {labels.shape}")
    if not len(labels):
        raise ValueError("no samples to score")
    ranking = np.argsort(-scores, axis=1, kind="stable")
    hits = ranking == labels[:, None]
    return {k: float(hits[:, :k].any(axis=1).mean()) for k in ks}


def mean_std(values) -> dict[str, float]:
    """Mean and population standard deviation (numpy's default, ddof=0) over splits."""
    values = np.asarray(values, dtype=np.float64)
    return {"mean": float(values.mean()), "std": float(values.std())}


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts: row = true class, column = predicted class."""
    return np.bincount(np.asarray(labels) * n_classes + np.asarray(predicted),
                       minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def unit(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """`x` scaled to unit L2 length along `axis` (a zero vector stays zero): cosines are dot products
    of these. The one normalisation of the numpy stages (the models normalise in torch)."""
    x = np.asarray(x)
    return x / np.maximum(np.linalg.norm(x, axis=axis, keepdims=True), 1e-12)
