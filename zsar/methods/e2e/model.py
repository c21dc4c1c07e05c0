"""E2E (Brattoli et al., CVPR 2020): a video model that regresses the class-name word vector.

An R(2+1)D backbone (`model.arch: r2plus1d`, the paper's main one) or C3D (`arch: c3d`, its Tables 1-2), dropout and a Linear to the word-vector dimension, L2-normalised. Training
takes one random clip per video per epoch and minimises the squared distance to the L2-normalised
class vector; Adam, with tenfold decays at the milestone epochs. Validation labels a video by its
nearest class vector. At test time a video is scored against the unseen classes' word vectors.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from zsar.models.backbones import create_c3d, create_r2plus1d
from zsar.models.training import NearestClassVector, Phase


class E2EModel(nn.Module):
    """E2E: backbone, dropout, Linear to the word-vector dimension, L2-normalised.

    Input (B, 3, T, H, W) -> (B, embed_dim); input (B, N, 3, T, H, W) averages the N clips'
    embeddings (the test-time protocol) and returns (B, embed_dim).
    """

    def __init__(self, backbone: nn.Module, embed_dim: int, dropout: float = 0.5):
        super().__init__()
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(backbone.out_dim, embed_dim)
        self.embed_dim = embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 6:
            b, n = x.shape[:2]
            return self.forward(x.flatten(0, 1)).view(b, n, -1).mean(dim=1)
        return F.normalize(self.head(self.dropout(self.backbone(x))), dim=-1)

    embed = forward  # what extraction calls on either method's model


ARCHS = {"r2plus1d": create_r2plus1d, "c3d": create_c3d}


def create_e2e_model(arch: str, embed_dim: int, dropout: float = 0.5, **arch_kwargs) -> E2EModel:
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; available: {', '.join(ARCHS)}")

    return E2EModel(ARCHS[arch](**arch_kwargs), embed_dim, dropout)


class _Loss(nn.Module):
    def __init__(self, model, targets):
        super().__init__()
        self.model, self.targets = model, targets

    def forward(self, clips, labels):
        embeddings = self.model(clips).float()
        # labelled as validation labels: the nearest class vector
        self.batch_correct = ((embeddings.detach() @ self.targets.T).argmax(dim=1) == labels).sum()
        return (embeddings - self.targets[labels]).pow(2).sum(dim=1).mean()


class Training(NearestClassVector):
    """The pieces of E2E's training for the shared loop (zsar/models/training.py)."""

    def __init__(self, class_names, semantics, model_cfg, train_cfg):
        self.classes = class_names
        self.vectors = np.asarray(semantics["class_vectors"], dtype=np.float32)
        self.model_cfg, self.cfg = model_cfg, train_cfg
        self.phases = [Phase("train", train_cfg["epochs"], select=True)]

    def build(self) -> nn.Module:
        return create_e2e_model(embed_dim=self.vectors.shape[1], **self.model_cfg)

    def loss_module(self, net, phase, device):
        return _Loss(net, torch.from_numpy(self.vectors).to(device))

    def optimizer(self, net, phase):
        optimizer = torch.optim.Adam(net.parameters(), lr=self.cfg["lr"], weight_decay=self.cfg["weight_decay"])
        # E2E's schedule: the learning rate drops tenfold at each milestone epoch.
        return optimizer, torch.optim.lr_scheduler.MultiStepLR(optimizer, self.cfg["lr_milestones"], gamma=0.1)


def from_checkpoint(checkpoint: dict) -> nn.Module:
    """The trained model of a checkpoint written by the shared loop, weights not yet loaded."""
    return create_e2e_model(embed_dim=checkpoint["embed_dim"], **checkpoint["model_cfg"])
