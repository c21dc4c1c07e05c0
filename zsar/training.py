"""E2E training: regress the class word vector from one random clip per video per epoch.

Loss is the squared distance between the L2-normalised output and the class vector; the model
kept is the epoch with the best top-1 on the source dataset's held-out (val) videos, among the
training classes only: target classes never take part in model selection.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from zsar.clips import TrainClips
from zsar.embed import embed_videos
from zsar.io import atomic_output
from zsar.models import create_e2e_model


def nearest_class_top1(embeddings: np.ndarray, labels: list[str], class_names: list[str],
                       class_vectors: np.ndarray) -> float:
    predicted = np.asarray(class_names)[(embeddings @ class_vectors.T).argmax(axis=1)]
    return float((predicted == np.asarray(labels)).mean()) if len(labels) else float("nan")


def _fingerprint(**parts) -> str:
    """What a checkpoint was trained from; a checkpoint resumes only a run with the same one."""
    text = json.dumps({k: (hashlib.sha256(v.tobytes()).hexdigest() if isinstance(v, np.ndarray) else v)
                       for k, v in parts.items()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def train_e2e(train_videos: pd.DataFrame, val_videos: pd.DataFrame, class_names: list[str],
              class_vectors: np.ndarray, *, model_cfg: dict, train_cfg: dict, clip_cfg: dict,
              seed: int, threads: int, model_path, history_path, checkpoint_path=None, log=print) -> dict:
    """Train, keeping the best epoch on the held-out videos.

    With `checkpoint_path`, the full training state is saved there (atomically) after every epoch,
    and a job killed at any point resumes from it when run again with the same inputs and
    settings, ending with the same weights as an uninterrupted run. It is deleted at the end.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # Mixed precision on a GPU; full precision on the CPU, where float16 autocast gains nothing.
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)

    label_index = {name: i for i, name in enumerate(class_names)}
    train_videos = train_videos[train_videos["label"].isin(label_index)]
    val_videos = val_videos[val_videos["label"].isin(label_index)]
    if train_videos.empty:
        raise ValueError("no training videos belong to the kept source classes")
    targets = torch.from_numpy(class_vectors).float().to(device)
    dataset = TrainClips(train_videos, label_index, length=clip_cfg["frames"], stride=clip_cfg["stride"],
                         crop=clip_cfg["crop"], seed=seed)
    loader = DataLoader(dataset, batch_size=train_cfg["batch_size"], shuffle=True, drop_last=False,
                        num_workers=train_cfg["workers"], generator=torch.Generator().manual_seed(seed),
                        persistent_workers=train_cfg["workers"] > 0)
    model = create_e2e_model(embed_dim=class_vectors.shape[1], **model_cfg).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_cfg["lr"], weight_decay=train_cfg["weight_decay"])
    # E2E's schedule: the learning rate drops tenfold at each milestone epoch.
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, train_cfg["lr_milestones"], gamma=0.1)
    log(f"training on {len(train_videos)} videos of {len(class_names)} classes, "
        f"selecting on {len(val_videos)} held-out source videos")

    history, best, first_epoch = [], {"val_top1": -1.0}, 1
    fingerprint = _fingerprint(model_cfg=model_cfg, train_cfg=train_cfg, clip_cfg=clip_cfg, seed=seed,
                               classes=class_names, vectors=class_vectors,
                               train=sorted(train_videos["video_id"]), val=sorted(val_videos["video_id"]))
    if checkpoint_path is not None:
        checkpoint_path = Path(checkpoint_path)
        for stale in checkpoint_path.parent.glob(f".{checkpoint_path.name}.tmp-*"):
            stale.unlink()  # left by a job killed while it wrote
        if checkpoint_path.exists():
            state = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
            if state["fingerprint"] == fingerprint:
                model.load_state_dict(state["model"])
                scaler.load_state_dict(state["scaler"])
                optimizer.load_state_dict(state["optimizer"])
                scheduler.load_state_dict(state["scheduler"])
                loader.generator.set_state(state["loader_generator"])
                torch.set_rng_state(state["torch_rng"])
                if state.get("cuda_rng") is not None and device.type == "cuda":
                    torch.cuda.set_rng_state_all(state["cuda_rng"])
                history, best, first_epoch = state["history"], state["best"], state["epoch"] + 1
                log(f"resuming from {checkpoint_path} after epoch {state['epoch']}")
            else:
                log(f"{checkpoint_path} was written with other inputs or settings: starting afresh")

    for epoch in range(first_epoch, train_cfg["epochs"] + 1):
        started = time.perf_counter()
        model.train()
        dataset.set_epoch(epoch)
        total, count = 0.0, 0
        for clips, labels in tqdm(loader, desc=f"epoch {epoch}", file=sys.stderr, mininterval=10, leave=False):
            clips, labels = clips.to(device, non_blocking=True), labels.to(device)
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                loss = (model(clips).float() - targets[labels]).pow(2).sum(dim=1).mean()
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            total += loss.item() * len(labels)
            count += len(labels)
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        val_top1 = float("nan")
        if not val_videos.empty:
            embeddings = embed_videos(model, val_videos, length=clip_cfg["frames"], stride=clip_cfg["stride"],
                                      crop=clip_cfg["crop"], n_clips=clip_cfg["test_clips"])
            val_top1 = nearest_class_top1(embeddings, val_videos["label"].tolist(), class_names, class_vectors)
        row = {"epoch": epoch, "lr": lr, "train_loss": round(total / count, 6),
               "val_top1": round(val_top1, 6), "seconds": round(time.perf_counter() - started, 2)}
        history.append(row)
        log(" ".join(f"{k}={v}" for k, v in row.items()))
        # Without held-out videos the last epoch is kept.
        if val_videos.empty or val_top1 > best["val_top1"]:
            best = {"epoch": epoch, "val_top1": val_top1,
                    "state_dict": {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}}
        if checkpoint_path is not None:
            state = {"fingerprint": fingerprint, "epoch": epoch, "model": model.state_dict(),
                     "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                     "scaler": scaler.state_dict(),
                     "loader_generator": loader.generator.get_state(), "torch_rng": torch.get_rng_state(),
                     "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
                     "history": history, "best": best}
            with atomic_output(checkpoint_path) as tmp:
                torch.save(state, tmp)

    with atomic_output(history_path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    checkpoint = {"state_dict": best["state_dict"], "model_cfg": model_cfg, "embed_dim": class_vectors.shape[1],
                  "classes": class_names, "epoch": best["epoch"], "val_top1": best["val_top1"]}
    with atomic_output(model_path) as tmp:
        torch.save(checkpoint, tmp)
    if checkpoint_path is not None and checkpoint_path.exists():
        checkpoint_path.unlink()
    log(f"kept epoch {best['epoch']} (val top-1 {best['val_top1']:.3f})")
    return checkpoint


def load_e2e_model(path) -> torch.nn.Module:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    model = create_e2e_model(embed_dim=checkpoint["embed_dim"], **checkpoint["model_cfg"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()
