"""Feature files: features/{run}/{dataset}/{shard}.h5 and the merged features/{run}/{dataset}.h5.

Each holds `video_id`, `label`, `embedding` (n, dim) float32, optionally `clip_embedding`
(n, n_clips, dim), and the sha256 of the model that made them (attribute `model_sha256`).
Torch-free, so that the stages that only read features start quickly.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from zsar.io import atomic_output, file_sha256, open_h5

STRING = h5py.string_dtype()


def write_features(path, video_ids, labels, embeddings: np.ndarray, model_sha256: str,
                   clip_embeddings: np.ndarray | None = None) -> None:
    """video_id, label, embedding (n, dim) and, when given, clip_embedding (n, n_clips, dim)."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("video_id", data=np.array(video_ids, dtype=object), dtype=STRING)
        f.create_dataset("label", data=np.array(labels, dtype=object), dtype=STRING)
        f.create_dataset("embedding", data=embeddings)
        if clip_embeddings is not None:
            f.create_dataset("clip_embedding", data=clip_embeddings)
        f.attrs["model_sha256"] = model_sha256


def merge_features(paths, out_path) -> int:
    """One file of a dataset's feature shards, in shard order; clip embeddings kept if all have them."""
    videos, embeddings = read_features(paths)
    clips = []
    for path in paths:
        with open_h5(path) as f:
            clips.append(f["clip_embedding"][:] if "clip_embedding" in f else None)
            checksum = f.attrs["model_sha256"]
    clip_embeddings = np.concatenate(clips) if clips and all(c is not None for c in clips) else None
    write_features(out_path, videos["video_id"], videos["label"], embeddings, checksum, clip_embeddings)
    return len(videos)


def read_features(paths) -> tuple[pd.DataFrame, np.ndarray]:
    """Concatenate feature shards: a table of video_id/label and the (n, dim) embeddings."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    tables, arrays, checksums = [], [], set()
    for path in paths:
        with open_h5(path) as f:
            tables.append(pd.DataFrame({"video_id": f["video_id"].asstr()[:], "label": f["label"].asstr()[:]}))
            arrays.append(f["embedding"][:])
            checksums.add(f.attrs["model_sha256"])
    if len(checksums) > 1:
        raise ValueError(f"feature shards {list(paths)} come from different models; rerun extract_embeddings")
    return pd.concat(tables, ignore_index=True), np.concatenate(arrays)
