"""Training of both methods in one resumable loop, on the CPU, a GPU, or several GPUs (DDP).

E2E (Brattoli et al. 2020): regress the L2-normalised class word vector from one random clip per
video per epoch (squared distance); Adam with tenfold decays at the milestone epochs.

ResT (Lin et al. 2022): two phases. Warm-up trains the ResNet frame encoder alone, with a linear
classifier on its mean frame feature (SGD, momentum 0.9, lr 0.01, wd 1e-4); joint training then
trains the whole cross-modal model on CE + 0.5 x masked token loss (AdamW, lr 1.5e-4, wd 0.05).
Each phase has its own cosine schedule, stepped every epoch.

The model kept is the epoch with the best top-1 on the source dataset's held-out (val) videos, among
the training classes only (E2E: nearest class vector; ResT: its classifier): target classes never
take part in model selection. For ResT only joint-training epochs are candidates.

Every epoch the whole training state is saved atomically; a job killed at any point resumes from it
when run again with the same inputs and settings, and ends with the same weights as an uninterrupted
run. With `processes` > 1 the loop runs in that many processes under DistributedDataParallel (NCCL
on GPUs, gloo on the CPU); rank 0 validates its share, writes checkpoints and the outputs.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from zsar.clips import TrainClips
from zsar.embed import embed_videos
from zsar.io import atomic_output, load_weights, remove_stale_temporaries, write_json
from zsar.methods import resolve
from zsar.models import create_e2e_model
from zsar.progress import Progress
from zsar.rest import create_rest
from zsar.sampling import to_model_input

def class_word_ids(tokens: list[list[str]]) -> tuple[list[str], list[list[int]]]:
    """ResT's word tokens: the vocabulary of the class names' words and each class's word ids.

    `tokens` are the semantic stage's tokens per class (words, or phrases for sentence embeddings,
    split here into words); a word repeated within one class is kept once.
    """
    words = [list(dict.fromkeys(w for token in class_tokens for w in token.split())) for class_tokens in tokens]
    vocabulary = sorted({w for ws in words for w in ws})
    index = {w: i for i, w in enumerate(vocabulary)}
    return vocabulary, [[index[w] for w in ws] for ws in words]


def _fingerprint(**parts) -> str:
    """What a checkpoint was trained from; a checkpoint resumes only a run with the same one."""
    text = json.dumps({k: (hashlib.sha256(v.tobytes()).hexdigest() if isinstance(v, np.ndarray) else v)
                       for k, v in parts.items()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Phase:
    name: str
    epochs: int
    select: bool  # whether the kept model may come from this phase


class _E2ELoss(nn.Module):
    def __init__(self, model, targets):
        super().__init__()
        self.model, self.targets = model, targets

    def forward(self, clips, labels):
        return (self.model(clips).float() - self.targets[labels]).pow(2).sum(dim=1).mean()


class _FrameClassifier(nn.Module):
    """ResT's warm-up: the frame encoder and a linear classifier on the mean frame feature."""

    def __init__(self, frames, probe):
        super().__init__()
        self.frames, self.probe = frames, probe

    def logits(self, clips):
        if clips.dim() == 6:
            b, n = clips.shape[:2]
            return self.logits(clips.flatten(0, 1)).view(b, n, -1).mean(dim=1)
        b, _, t = clips.shape[:3]
        return self.probe(self.frames(clips.transpose(1, 2).flatten(0, 1)).view(b, t, -1).mean(dim=1))

    def forward(self, clips, labels):
        return F.cross_entropy(self.logits(clips).float(), labels)

    embed = logits  # validation reads class scores through embed_videos

    @property
    def embed_dim(self):
        return self.probe.out_features


class _ResTLoss(nn.Module):
    def __init__(self, rest, words, mask_p, mtl_weight):
        super().__init__()
        self.rest, self.words, self.mask_p, self.mtl_weight = rest, words, mask_p, mtl_weight

    def forward(self, clips, labels):
        return self.rest.loss(clips, self.words[labels], labels, p=self.mask_p, mtl_weight=self.mtl_weight)


class E2ETraining:
    def __init__(self, class_names, class_vectors, model_cfg, train_cfg):
        self.classes, self.vectors = class_names, np.asarray(class_vectors, dtype=np.float32)
        self.model_cfg, self.cfg = model_cfg, train_cfg
        self.phases = [Phase("train", train_cfg["epochs"], select=True)]

    def build(self) -> nn.Module:
        return create_e2e_model(embed_dim=self.vectors.shape[1], **self.model_cfg)

    def loss_module(self, net, phase, device):
        return _E2ELoss(net, torch.from_numpy(self.vectors).to(device))

    def optimizer(self, net, phase):
        optimizer = torch.optim.Adam(net.parameters(), lr=self.cfg["lr"], weight_decay=self.cfg["weight_decay"])
        # E2E's schedule: the learning rate drops tenfold at each milestone epoch.
        return optimizer, torch.optim.lr_scheduler.MultiStepLR(optimizer, self.cfg["lr_milestones"], gamma=0.1)

    def correct(self, net, phase, videos, clip_cfg) -> int:
        """How many of `videos` the model labels right: nearest class vector."""
        embeddings = _embed(net, videos, clip_cfg)
        predicted = np.asarray(self.classes)[(embeddings @ self.vectors.T).argmax(axis=1)]
        return int((predicted == videos["label"].to_numpy()).sum())

    def final(self, net) -> nn.Module:
        return net

    def saved(self) -> dict:
        return {"method": "e2e", "model_cfg": self.model_cfg, "embed_dim": self.vectors.shape[1]}


class ResTTraining:
    def __init__(self, class_names, word_ids, vocabulary, model_cfg, train_cfg):
        self.classes, self.vocabulary, self.model_cfg, self.cfg = class_names, vocabulary, model_cfg, train_cfg
        self.max_words = max(len(w) for w in word_ids)
        pad = len(vocabulary)
        self.words = torch.tensor([w + [pad] * (self.max_words - len(w)) for w in word_ids])
        self.phases = [Phase("warmup", train_cfg["warmup_epochs"], select=False),
                       Phase("joint", train_cfg["epochs"], select=True)]

    def build(self) -> nn.Module:
        rest = _create_rest(self.model_cfg, len(self.vocabulary), len(self.classes), self.max_words)
        return nn.ModuleDict({"rest": rest, "probe": nn.Linear(rest.frames.out_dim, len(self.classes))})

    def loss_module(self, net, phase, device):
        if phase.name == "warmup":
            return _FrameClassifier(net["rest"].frames, net["probe"])
        return _ResTLoss(net["rest"], self.words.to(device), self.cfg["mask_p"], self.cfg["mtl_weight"])

    def optimizer(self, net, phase):
        if phase.name == "warmup":
            params = [*net["rest"].frames.parameters(), *net["probe"].parameters()]
            optimizer = torch.optim.SGD(params, lr=self.cfg["warmup_lr"], momentum=self.cfg["momentum"],
                                        weight_decay=self.cfg["warmup_weight_decay"])
        else:
            optimizer = torch.optim.AdamW(net["rest"].parameters(), lr=self.cfg["lr"],
                                          weight_decay=self.cfg["weight_decay"])
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(phase.epochs, 1))

    def correct(self, net, phase, videos, clip_cfg) -> int:
        """How many of `videos` the model labels right: the warm-up's frame classifier, then ResT's."""
        if phase.name == "warmup":
            scores = _embed(_FrameClassifier(net["rest"].frames, net["probe"]), videos, clip_cfg)
        else:
            with torch.no_grad():
                embeddings = torch.from_numpy(_embed(net["rest"], videos, clip_cfg))
                device = next(net.parameters()).device
                scores = net["rest"].classifier(embeddings.to(device)).float().cpu().numpy()
        predicted = np.asarray(self.classes)[scores.argmax(axis=1)]
        return int((predicted == videos["label"].to_numpy()).sum())

    def final(self, net) -> nn.Module:
        return net["rest"]

    def saved(self) -> dict:
        return {"method": "rest", "model_cfg": self.model_cfg, "vocabulary": self.vocabulary,
                "max_words": self.max_words}


def _create_rest(model_cfg: dict, vocab_size: int, n_classes: int, max_words: int):
    cfg = dict(model_cfg)
    return create_rest(cfg.pop("preset"), vocab_size=vocab_size, n_classes=n_classes, max_words=max_words, **cfg)


def _embed(model, videos, clip_cfg) -> np.ndarray:
    return embed_videos(model, videos, length=clip_cfg["frames"], stride=clip_cfg["stride"],
                        crop=clip_cfg["crop"], n_clips=clip_cfg["test_clips"], workers=clip_cfg.get("workers", 0))


def train_step(step, optimizer, scaler, batch, device, amp: bool) -> torch.Tensor:
    """One optimizer step on a batch (uint8 clips, flips, labels): move it to the device, flip and
    normalise it there, forward the loss module (float16 autocast when amp), backward through the
    gradient scaler, step. Returns the loss."""
    clips, flips, labels = (x.to(device, non_blocking=True) for x in batch)
    clips = to_model_input(clips, flips)
    with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
        loss = step(clips, labels)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def train(method: str, train_videos: pd.DataFrame, val_videos: pd.DataFrame, class_names: list[str], *,
          model_cfg: dict, train_cfg: dict, clip_cfg: dict, seed: int, threads: int, model_path,
          history_path, class_vectors: np.ndarray | None = None, class_tokens: list[list[str]] | None = None,
          checkpoint_path=None, log=_stderr) -> None:
    """Train `method` on the kept source classes and write model_path and history_path.

    E2E needs `class_vectors` (one row per class); ResT needs `class_tokens`, the semantic stage's
    tokens per class, from which its word vocabulary is built. `model_cfg` and `train_cfg` are
    completed with the method's defaults (`resolve`). With `checkpoint_path`, a job killed at any
    point resumes from there; the checkpoint is deleted at the end.
    """
    model_cfg, train_cfg = resolve(method, model_cfg, train_cfg)
    label_index = {name: i for i, name in enumerate(class_names)}
    train_videos = train_videos[train_videos["label"].isin(label_index)]
    val_videos = val_videos[val_videos["label"].isin(label_index)]
    if train_videos.empty:
        raise ValueError("no training videos belong to the kept source classes")
    args = (method, train_videos, val_videos, class_names, class_vectors, class_tokens, model_cfg, train_cfg,
            clip_cfg, seed, threads, model_path, history_path, checkpoint_path)
    processes = train_cfg["processes"]
    if processes == 1:
        _train_process(0, 1, *args, log=log)
        return
    log(f"training in {processes} processes (DistributedDataParallel, "
        f"{'nccl' if torch.cuda.is_available() else 'gloo'})")
    with socket.socket() as s:  # a free port for the process group
        s.bind(("127.0.0.1", 0))
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(s.getsockname()[1])
    torch.multiprocessing.spawn(_train_process, args=(processes, *args), nprocs=processes, join=True)


def _train_process(rank, world, method, train_videos, val_videos, class_names, class_vectors, class_tokens,
                   model_cfg, train_cfg, clip_cfg, seed, threads, model_path, history_path, checkpoint_path,
                   log=_stderr) -> None:
    distributed = world > 1
    cuda = torch.cuda.is_available()
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world,
                                timeout=datetime.timedelta(hours=2))
    if rank != 0:
        log = lambda message: None  # noqa: E731  rank 0 speaks for all
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads // world))
    torch.use_deterministic_algorithms(True)
    device = torch.device(f"cuda:{rank % torch.cuda.device_count()}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    # Mixed precision on a GPU; full precision on the CPU, where float16 autocast gains nothing.
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)

    if method == "e2e":
        if class_vectors is None:
            raise ValueError("E2E training needs the class vectors")
        trainer = E2ETraining(class_names, class_vectors, model_cfg, train_cfg)
    else:
        if class_tokens is None:
            raise ValueError("ResT training needs the class tokens")
        vocabulary, word_ids = class_word_ids(class_tokens)
        trainer = ResTTraining(class_names, word_ids, vocabulary, model_cfg, train_cfg)
    label_index = {name: i for i, name in enumerate(class_names)}
    dataset = TrainClips(train_videos, label_index, length=clip_cfg["frames"], stride=clip_cfg["stride"],
                         crop=clip_cfg["crop"], seed=seed)
    sampler = DistributedSampler(dataset, world, rank, shuffle=True, seed=seed) if distributed else None
    loader = DataLoader(dataset, batch_size=train_cfg["batch_size"], shuffle=sampler is None, sampler=sampler,
                        num_workers=train_cfg["workers"], generator=torch.Generator().manual_seed(seed),
                        persistent_workers=train_cfg["workers"] > 0, pin_memory=cuda,
                        prefetch_factor=4 if train_cfg["workers"] else None)
    net = trainer.build().to(device)
    if rank:
        torch.manual_seed(seed + rank)  # dropout and word masking differ across ranks; weights start equal
    # Each rank validates its share of the held-out videos; the counts are summed.
    my_val = val_videos.iloc[rank::world]
    log(f"{method}: training on {len(train_videos)} videos of {len(class_names)} classes, "
        f"selecting on {len(val_videos)} held-out source videos")

    history, best, first_epoch = [], {"val_top1": -1.0}, 1
    fingerprint = _fingerprint(method=method, model_cfg=model_cfg, train_cfg=train_cfg, clip_cfg=clip_cfg,
                               seed=seed, classes=class_names,
                               vectors=class_vectors, tokens=class_tokens,
                               train=sorted(train_videos["video_id"]), val=sorted(val_videos["video_id"]))
    resumed = None
    if checkpoint_path is not None:
        checkpoint_path = Path(checkpoint_path)
        if rank == 0:
            remove_stale_temporaries(checkpoint_path)  # left by a job killed while it wrote
        if checkpoint_path.exists():
            state = load_weights(checkpoint_path)
            if state["fingerprint"] == fingerprint and state.get("world", 1) == world:
                net.load_state_dict(state["model"])
                scaler.load_state_dict(state["scaler"])
                loader.generator.set_state(state["loader_generator"])
                torch.set_rng_state(state["torch_rng"][rank])
                if state.get("cuda_rng") is not None and device.type == "cuda":
                    torch.cuda.set_rng_state(state["cuda_rng"][rank])
                history, best, first_epoch, resumed = state["history"], state["best"], state["epoch"] + 1, state
                log(f"resuming from {checkpoint_path} after epoch {state['epoch']}")
            else:
                log(f"{checkpoint_path} was written with other inputs, settings or process count: starting afresh")

    starts = np.cumsum([0] + [p.epochs for p in trainer.phases])  # phase k covers epochs starts[k]+1..starts[k+1]
    for k, phase in enumerate(trainer.phases):
        if first_epoch > starts[k + 1]:
            continue
        optimizer, scheduler = trainer.optimizer(net, phase)
        if resumed is not None and resumed["phase"] == phase.name:
            optimizer.load_state_dict(resumed["optimizer"])
            scheduler.load_state_dict(resumed["scheduler"])
        step = trainer.loss_module(net, phase, device)
        if distributed:
            step = nn.parallel.DistributedDataParallel(step, device_ids=[device.index] if cuda else None)
        for epoch in range(max(first_epoch, starts[k] + 1), starts[k + 1] + 1):
            started = time.perf_counter()
            net.train()
            dataset.set_epoch(epoch)
            if sampler is not None:
                sampler.set_epoch(epoch)
            total = torch.zeros(2, dtype=torch.float64)  # loss sum, clip count
            progress = Progress(len(loader), "batches", log, desc=f"epoch {epoch} ({phase.name})")
            for batch in loader:
                loss = train_step(step, optimizer, scaler, batch, device, amp)
                total += torch.tensor([loss.item() * len(batch[2]), len(batch[2])], dtype=torch.float64)
                progress.advance()
            lr = optimizer.param_groups[0]["lr"]
            scheduler.step()
            val_cfg = {**clip_cfg, "workers": train_cfg["workers"]}
            counts = torch.tensor([trainer.correct(net, phase, my_val, val_cfg) if len(my_val) else 0,
                                   len(my_val)], dtype=torch.float64)
            if distributed:
                dist.all_reduce(total)
                dist.all_reduce(counts)
            val_top1 = float(counts[0] / counts[1]) if counts[1] else float("nan")
            row = {"epoch": epoch, "phase": phase.name, "lr": lr, "clips": int(total[1]),
                   "train_loss": round(float(total[0] / total[1]), 6),
                   "val_top1": round(val_top1, 6), "seconds": round(time.perf_counter() - started, 2)}
            history.append(row)
            log(" ".join(f"{key}={value}" for key, value in row.items()))
            # Without held-out videos the last epoch is kept.
            if phase.select and (val_videos.empty or val_top1 > best["val_top1"]):
                best = {"epoch": epoch, "val_top1": val_top1,
                        "state_dict": {key: v.detach().to("cpu", copy=True)
                                       for key, v in trainer.final(net).state_dict().items()}}
            if checkpoint_path is not None:
                rng = [torch.get_rng_state()]
                cuda_rng = [torch.cuda.get_rng_state()] if cuda else None
                if distributed:
                    rng = [None] * world
                    dist.all_gather_object(rng, torch.get_rng_state())
                    if cuda:
                        cuda_rng = [None] * world
                        dist.all_gather_object(cuda_rng, torch.cuda.get_rng_state())
                if rank == 0:
                    state = {"fingerprint": fingerprint, "world": world, "epoch": epoch, "phase": phase.name,
                             "model": net.state_dict(), "optimizer": optimizer.state_dict(),
                             "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
                             "loader_generator": loader.generator.get_state(), "torch_rng": rng,
                             "cuda_rng": cuda_rng, "history": history, "best": best}
                    with atomic_output(checkpoint_path) as tmp:
                        torch.save(state, tmp)

    if rank == 0:
        with atomic_output(history_path) as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(history[0]))
            writer.writeheader()
            writer.writerows(history)
        checkpoint = {**trainer.saved(), "state_dict": best["state_dict"], "classes": class_names,
                      "epoch": best["epoch"], "val_top1": best["val_top1"]}
        with atomic_output(model_path) as tmp:
            torch.save(checkpoint, tmp)
        # What later stages need to know of the model without loading its weights.
        write_json(model_info_path(model_path), {
            "method": method, "classes": class_names, "epoch": best["epoch"],
            "val_top1": None if np.isnan(best["val_top1"]) else best["val_top1"], "model_cfg": model_cfg})
        if checkpoint_path is not None and checkpoint_path.exists():
            checkpoint_path.unlink()
        log(f"kept epoch {best['epoch']} (val top-1 {best['val_top1']:.3f})")
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


def model_info_path(model_path) -> Path:
    """models/{run}/model.json beside model.pt: method, classes, kept epoch, settings."""
    return Path(model_path).with_suffix(".json")


def load_model(path) -> nn.Module:
    """The trained model of either method, in eval mode; `.embed(clips)` gives video embeddings.

    The file is loaded weights-only (zsar.io.load_weights): one that would run code is refused.
    """
    checkpoint = load_weights(path)
    method = checkpoint.get("method", "e2e")
    if method == "e2e":
        model = create_e2e_model(embed_dim=checkpoint["embed_dim"], **checkpoint["model_cfg"])
    else:
        model = _create_rest(checkpoint["model_cfg"], len(checkpoint["vocabulary"]), len(checkpoint["classes"]),
                             checkpoint["max_words"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()
