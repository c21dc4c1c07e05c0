"""The toy method's model and its pieces for zsar's shared training loop (zsar/models/training.py)."""

import torch
import torch.nn.functional as F
from torch import nn

from zsar.models.training import Phase, count_correct, validation_embeddings


class LinearProbe(nn.Module):
    """Clips (B, 3, T, H, W), or (B, N, 3, T, H, W) averaged over N, to unit vectors (B, embed_dim)."""

    def __init__(self, pool: int, embed_dim: int):
        super().__init__()
        self.pool, self.embed_dim = pool, embed_dim
        self.project = nn.Linear(3 * pool * pool, embed_dim)

    def forward(self, x):
        if x.dim() == 6:
            b, n = x.shape[:2]
            return self.forward(x.flatten(0, 1)).view(b, n, -1).mean(dim=1)
        pooled = F.adaptive_avg_pool3d(x, (1, self.pool, self.pool)).flatten(1)
        return F.normalize(self.project(pooled), dim=-1)

    embed = forward  # what extraction calls


class _Loss(nn.Module):
    def __init__(self, net, vectors):
        super().__init__()
        self.net, self.vectors = net, vectors

    def forward(self, clips, labels):
        embedded = self.net(clips).float()
        self.batch_correct = ((embedded.detach() @ self.vectors.T).argmax(dim=1) == labels).sum()
        return (embedded - self.vectors[labels]).pow(2).sum(dim=1).mean()


class Training:
    def __init__(self, class_names, semantics, model_cfg, train_cfg):
        self.classes, self.model_cfg, self.cfg = class_names, model_cfg, train_cfg
        self.vectors = torch.as_tensor(semantics["class_vectors"], dtype=torch.float32)
        self.phases = [Phase("train", train_cfg["epochs"], select=True)]

    def build(self):
        return LinearProbe(self.model_cfg["pool"], self.vectors.shape[1])

    def loss_module(self, net, phase, device):
        return _Loss(net, self.vectors.to(device))

    def optimizer(self, net, phase):
        optimizer = torch.optim.SGD(net.parameters(), lr=self.cfg["lr"])
        return optimizer, torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)

    def correct(self, net, phase, videos, sampling):
        return count_correct(videos, self.classes, validation_embeddings(net, videos, sampling) @ self.vectors.numpy().T)

    def final(self, net):
        return net

    def saved(self):
        return {"model_cfg": self.model_cfg, "embed_dim": self.vectors.shape[1]}


def from_checkpoint(checkpoint):
    return LinearProbe(checkpoint["model_cfg"]["pool"], checkpoint["embed_dim"])
