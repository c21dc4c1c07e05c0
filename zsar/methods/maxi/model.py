"""MAXI's training: ViFi-CLIP's two-tower model (zsar.methods.vificlip.model) trained against each
video's text bag with a multiple-instance contrastive loss instead of its label."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from zsar.methods.vificlip.augment import augmentation
from zsar.methods.vificlip.model import Training as ViFiTraining
from zsar.methods.vificlip.model import from_checkpoint  # noqa: F401  the same model
from zsar.models.training import Phase


class _BagLoss(nn.Module):
    """MIL-NCE over text bags: each video draws n_bag of its bag's prompts (without replacement, all of
    a smaller bag); the positives of a video are its drawn prompts (and any prompt of the batch with
    the same tokens), the negatives every other drawn prompt of the batch. The loss is
    -log(sum over positives of exp(s) / sum over all of exp(s)), s the cosine at CLIP's logit scale,
    averaged over the videos; both towers learn. Labels are not read. The clips are augmented first, as
    ViFi-CLIP's (train.augment)."""

    def __init__(self, net, n_bag: int, augment: nn.Module | None = None):
        super().__init__()
        self.net, self.n_bag, self.augment = net, n_bag, augment or nn.Identity()

    def forward(self, clips, labels, bag, bag_size):
        videos = self.net(self.augment(clips))  # (B, D) unit rows
        b, m, length = bag.shape
        n = min(self.n_bag, m)
        valid = torch.arange(m, device=bag.device)[None, :] < bag_size[:, None]
        draw = torch.rand(b, m, device=bag.device).masked_fill(~valid, -1.0).topk(n, dim=1).indices
        drawn = bag.gather(1, draw[..., None].expand(-1, -1, length))  # (B, n, L)
        taken = valid.gather(1, draw)  # (B, n): a smaller bag draws all its prompts
        tokens = drawn[taken].long()  # (T, L)
        owner = torch.arange(b, device=bag.device)[:, None].expand(-1, n)[taken]  # (T,)
        texts = F.normalize(self.net.clip.encode_text(tokens).float(), dim=-1)
        logits = self.net.clip.logit_scale.exp().clamp(max=100) * videos.float() @ texts.T  # (B, T)
        same = (tokens[:, None, :] == tokens[None, :, :]).all(dim=-1).float()  # (T, T)
        own = (owner[None, :] == torch.arange(b, device=bag.device)[:, None]).float()  # (B, T)
        positive = (own @ same) > 0
        loss = torch.logsumexp(logits, dim=1) - torch.logsumexp(logits.masked_fill(~positive, float("-inf")), dim=1)
        self.batch_correct = positive.gather(1, logits.detach().argmax(dim=1, keepdim=True)).sum()
        return loss.mean()


class Training(ViFiTraining):
    """ViFi-CLIP's model, optimizer and (logged) validation; the bag loss. The last epoch is kept:
    MAXI reads no label, so the held-out source videos' top-1 is reported, not used to select."""

    def __init__(self, class_names, semantics, model_cfg, train_cfg):
        super().__init__(class_names, semantics, model_cfg, train_cfg)
        self.phases = [Phase("fine-tune", train_cfg["epochs"], select=True, last=True)]

    def loss_module(self, net, phase, device):
        return _BagLoss(net, self.model_cfg["n_bag"], augmentation(self.cfg.get("augment")))
