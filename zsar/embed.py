"""Video embeddings: a trained model applied to the N test clips of every video, averaged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from zsar.clips import TestClips


@torch.no_grad()
def embed_videos(model, videos: pd.DataFrame, *, length: int, stride: int, crop: int, n_clips: int,
                 batch_size: int = 8, per_clip: bool = False):
    """(n_videos, embed_dim) float32: the mean of each video's clip embeddings.

    With per_clip, also the clip embeddings themselves, (n_videos, n_clips, embed_dim).
    """
    model.eval()
    loader = DataLoader(TestClips(videos, length=length, stride=stride, crop=crop, n_clips=n_clips),
                        batch_size=batch_size)
    device = next(model.parameters()).device
    means, clips = [], []
    for batch in loader:
        b, n = batch.shape[:2]
        embedded = model.embed(batch.flatten(0, 1).to(device)).float().view(b, n, -1)
        means.append(embedded.mean(dim=1).cpu())
        if per_clip:
            clips.append(embedded.cpu())
    dim = model.embed_dim
    mean = torch.cat(means).numpy() if means else np.zeros((0, dim), np.float32)
    if not per_clip:
        return mean
    return mean, (torch.cat(clips).numpy() if clips else np.zeros((0, n_clips, dim), np.float32))
