"""JigsawNet's own scorer at test time, without torch: each video's segments aligned with the
atomic actions of the unseen classes, projected by the model (features/{run}/{target}_phrases.h5)."""

from __future__ import annotations

import numpy as np

from zsar.semantics.embedding import read_phrase_embeddings
from zsar.zeroshot.scoring import alignment_scores, phrases_chosen


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
