"""JigsawNet's alignment in numpy (group alignment, Eq. 3-4, and the one-to-one ablation), and its own
scorer at test time, without torch: each video's segments aligned with the atomic actions of the
unseen classes, projected by the model (features/{run}/{target}_phrases.h5). Training's validation
scores with the same functions."""

from __future__ import annotations

import numpy as np

from zsar.semantics.embedding import read_phrase_embeddings
from zsar.zeroshot.metrics import unit


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


class AlignmentScorer:
    """The alignment path of a trained JigsawNet (group, or the one-to-one ablation), per split."""

    def __init__(self, model_info: dict, inputs: dict):
        self.phrases = read_phrase_embeddings(inputs["phrases"])
        self.alignment = model_info["model_cfg"]["alignment"]
        self.objects = model_info["model_cfg"].get("objects", False)

    def _rows(self, unseen):
        """The rows of the unseen classes' phrases, and each one's class index in `unseen`."""
        column = {c: j for j, c in enumerate(unseen)}
        rows = [k for k, c in enumerate(self.phrases["class"]) if c in column]
        return rows, [column[self.phrases["class"][k]] for k in rows]

    def scorers(self, unseen) -> dict:
        rows, phrase_class = self._rows(unseen)
        path = "alignment" if self.alignment == "group" else f"alignment_{self.alignment}"
        return {path: lambda x: alignment_scores(x, self.phrases["embeddings"][rows], phrase_class, len(unseen),
                                                 self.alignment, objects=self.objects)}

    def split_stats(self, videos, embeddings: np.ndarray, unseen) -> dict:
        """Does group alignment use several atomic actions of a class?"""
        scored = videos["label"].isin(unseen).to_numpy()
        rows, phrase_class = self._rows(unseen)
        chosen = phrases_chosen(embeddings[scored], self.phrases["embeddings"][rows], phrase_class,
                                videos.loc[scored, "label"].map({c: j for j, c in enumerate(unseen)}).to_numpy(),
                                objects=self.objects)
        return {"phrases_chosen_per_video": float(chosen.mean())}


def scorer(model_info: dict, inputs: dict) -> AlignmentScorer:
    return AlignmentScorer(model_info, inputs)
