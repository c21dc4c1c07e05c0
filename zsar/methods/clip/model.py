"""CLIP's image tower as zsar's video model, loaded from the user's checkpoint (zsar.models.clip)."""

from __future__ import annotations

import numpy as np
from torch import nn

from zsar.models.clip import VideoCLIP, create, load_clip
from zsar.models.training import NearestClassVector, Phase


class Training(NearestClassVector):
    """Zero-shot: no epoch; the loop keeps the model as the checkpoint gives it, validated once."""

    def __init__(self, class_names, semantics, model_cfg, train_cfg):
        self.classes = class_names
        self.vectors = np.asarray(semantics["class_vectors"], dtype=np.float32)
        self.model_cfg, self.cfg = model_cfg, train_cfg
        self.phases = [Phase("zero-shot", 0, select=True)]

    def build(self) -> nn.Module:
        clip = load_clip(self.model_cfg["arch"], self.model_cfg["checkpoint"])
        dim = clip.text_projection.shape[1] if clip.text_projection is not None else self.vectors.shape[1]
        if dim != self.vectors.shape[1]:
            raise ValueError(f"{self.model_cfg['checkpoint']}: its towers embed in {dim} dimensions but the class "
                             f"vectors have {self.vectors.shape[1]}: the run's embedding is another CLIP's")
        return VideoCLIP(clip.visual, dim)


def from_checkpoint(checkpoint: dict) -> nn.Module:
    """The model of a checkpoint the shared loop wrote, weights not yet loaded."""
    clip = create(checkpoint["model_cfg"]["arch"])
    return VideoCLIP(clip.visual, checkpoint["embed_dim"])
