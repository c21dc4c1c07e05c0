"""Video embeddings: a trained model applied to the N test clips of every video, averaged."""

from __future__ import annotations

import hashlib

import h5py
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from zsar.clips import STRING, TestClips
from zsar.io import atomic_output


@torch.no_grad()
def embed_videos(model, videos: pd.DataFrame, *, length: int, stride: int, crop: int, n_clips: int,
                 batch_size: int = 8) -> np.ndarray:
    """(n_videos, embed_dim) float32: the mean of each video's clip embeddings."""
    model.eval()
    loader = DataLoader(TestClips(videos, length=length, stride=stride, crop=crop, n_clips=n_clips),
                        batch_size=batch_size)
    device = next(model.parameters()).device
    out = [model.embed(batch.to(device)).float().cpu() for batch in loader]
    return torch.cat(out).numpy().astype(np.float32) if out else np.zeros((0, model.embed_dim), np.float32)


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_features(path, video_ids, labels, embeddings: np.ndarray, model_sha256: str) -> None:
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("video_id", data=np.array(video_ids, dtype=object), dtype=STRING)
        f.create_dataset("label", data=np.array(labels, dtype=object), dtype=STRING)
        f.create_dataset("embedding", data=embeddings)
        f.attrs["model_sha256"] = model_sha256


def read_features(paths) -> tuple[pd.DataFrame, np.ndarray]:
    """Concatenate feature shards: a table of video_id/label and the (n, dim) embeddings."""
    tables, arrays, checksums = [], [], set()
    for path in paths:
        with h5py.File(path, "r") as f:
            tables.append(pd.DataFrame({"video_id": f["video_id"].asstr()[:], "label": f["label"].asstr()[:]}))
            arrays.append(f["embedding"][:])
            checksums.add(f.attrs["model_sha256"])
    if len(checksums) > 1:
        raise ValueError(f"feature shards {list(paths)} come from different models; rerun extract_embeddings")
    return pd.concat(tables, ignore_index=True), np.concatenate(arrays)
