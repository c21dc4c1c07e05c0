"""ViFi-CLIP's model: a CLIP (zsar.models.clip) whose two towers train on the source's videos."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from zsar.methods.vificlip.augment import augmentation
from zsar.models.clip import VideoCLIP, create, encode_prompts, load_clip
from zsar.models.training import Phase, nearest_vector_correct


class VideoTextCLIP(nn.Module):
    """A CLIP with both towers: `embed` a video (VideoCLIP's frames averaged), `encode_prompts`
    classes (each class's prompts through the text tower, averaged, normalised)."""

    def __init__(self, clip: nn.Module, arch: str, embed_dim: int):
        super().__init__()
        self.clip, self.arch, self.embed_dim = clip, arch, embed_dim
        self.video = VideoCLIP(clip.visual, embed_dim)

    def forward(self, x):
        return self.video(x)

    embed = forward

    def encode_prompts(self, prompts_per_class: list[list[str]]) -> torch.Tensor:
        return encode_prompts(self.clip, self.arch, prompts_per_class)


class _Loss(nn.Module):
    """Cross-entropy of the videos against every kept class's prompts, at CLIP's logit scale; the
    text tower runs on the prompts each step, so both towers learn. The clips are augmented first
    (train.augment: augment.py)."""

    def __init__(self, net: VideoTextCLIP, prompts, augment: nn.Module | None = None):
        super().__init__()
        self.net, self.prompts, self.augment = net, prompts, augment or nn.Identity()

    def forward(self, clips, labels):
        videos = self.net(self.augment(clips))
        classes = self.net.encode_prompts(self.prompts)
        logits = self.net.clip.logit_scale.exp().clamp(max=100) * videos @ classes.T
        self.batch_correct = (logits.detach().argmax(dim=1) == labels).sum()
        return F.cross_entropy(logits, labels)


class Training:
    def __init__(self, class_names, semantics, model_cfg, train_cfg):
        self.classes, self.prompts = class_names, [list(t) for t in semantics["class_tokens"]]
        self.model_cfg, self.cfg = model_cfg, train_cfg
        self.phases = [Phase("fine-tune", train_cfg["epochs"], select=True)]

    def build(self) -> nn.Module:
        clip = load_clip(self.model_cfg["arch"], self.model_cfg["checkpoint"])
        self.dim = clip.text_projection.shape[1]
        return VideoTextCLIP(clip, self.model_cfg["arch"], self.dim)

    def loss_module(self, net, phase, device):
        return _Loss(net, self.prompts, augmentation(self.cfg.get("augment")))

    def optimizer(self, net, phase):
        optimizer = torch.optim.AdamW(net.parameters(), lr=self.cfg["lr"], weight_decay=self.cfg["weight_decay"])
        steps = max(1, phase.epochs)
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)

    @torch.no_grad()
    def correct(self, net, phase, videos, sampling) -> int:
        """How many of `videos` the model labels right: the nearest kept class's prompt, through the
        text tower as it is now."""
        was = net.training
        net.eval()
        vectors = net.encode_prompts(self.prompts).cpu().numpy()
        net.train(was)
        return nearest_vector_correct(net, videos, sampling, self.classes, vectors)

    def final(self, net) -> nn.Module:
        return net

    def saved(self) -> dict:
        return {"model_cfg": self.model_cfg, "embed_dim": self.dim}


def from_checkpoint(checkpoint: dict) -> nn.Module:
    arch = checkpoint["model_cfg"]["arch"]
    clip = create(arch)
    return VideoTextCLIP(clip, arch, clip.text_projection.shape[1])
