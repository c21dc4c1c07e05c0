"""Scoring by the model's own text tower: a target's class prompts, embedded by the trained model
(features/{run}/{target}_prompts.h5, rule extract_prompts), against the videos' embeddings."""

from __future__ import annotations

import numpy as np

from zsar.semantics.embedding import read_class_embedding


class PromptScorer:
    def __init__(self, path):
        self.prompts = read_class_embedding(path)

    def scorers(self, unseen) -> dict:
        vectors = self.prompts.vectors_of(unseen)
        return {"prompts": lambda x: np.asarray(x) @ vectors.T}

    def split_stats(self, videos, embeddings, unseen) -> dict:
        return {}
