"""The training loop every method shares: data, device, DistributedDataParallel, mixed precision,
checkpoints and resume, validation and model selection, logs. No method's name appears here; a
method (zsar/methods/<name>.py) brings a `Training` with its phases, model, loss, optimizer and
validation rule.

The model kept is the epoch with the best top-1 on the source dataset's held-out (val) videos, among
the training classes only, in a phase the method allows (`Phase.select`): target classes never take
part in model selection.

Every epoch the whole training state is saved atomically; a job killed at any point resumes from it
when run again with the same inputs and settings, and ends with the same weights as an uninterrupted
run. With `processes` > 1 the loop runs in that many processes under DistributedDataParallel (NCCL
on GPUs, gloo on the CPU); rank 0 validates its share, writes checkpoints and the outputs.
"""

from __future__ import annotations

import csv
import datetime
import gc
import hashlib
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from zsar.data.clips import ShardRuns, ThreadFeed, TrainClips
from zsar.data.sampling import to_model_input
from zsar.io import atomic_output, load_weights, remove_stale_temporaries, write_json
from zsar.methods import LOADER_OPTIONS, method as method_spec, resolve
from zsar.models.extract import embed_videos
from zsar.progress import Progress


@dataclass
class Phase:
    name: str
    epochs: int
    select: bool  # whether the kept model may come from this phase


def validation_embeddings(model, videos, sampling) -> np.ndarray:
    """What `model.embed` gives for `videos`' test clips (averaged), as validation reads them."""
    return embed_videos(model, videos, length=sampling["frames"], stride=sampling["stride"],
                        crop=sampling["crop"], n_clips=sampling["test_clips"], workers=sampling.get("workers", 0),
                        video_side=sampling.get("video_side"))


def count_correct(videos: pd.DataFrame, classes: list[str], scores: np.ndarray) -> int:
    """How many of `videos` have their label as the top-scored of `classes` (scores: videos x classes)."""
    predicted = np.asarray(classes)[np.asarray(scores).argmax(axis=1)]
    return int((predicted == videos["label"].to_numpy()).sum())


def _digestible(value):
    """`value` with every array replaced by its digest (json would write a large array elided)."""
    if isinstance(value, np.ndarray):
        return hashlib.sha256(value.tobytes()).hexdigest()
    if isinstance(value, dict):
        return {k: _digestible(v) for k, v in value.items()}
    return value


def _fingerprint(**parts) -> str:
    """What a checkpoint was trained from; a checkpoint resumes only a run with the same one."""
    text = json.dumps(_digestible(parts), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def train_step(step, optimizer, scaler, batch: dict, device, amp: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One optimizer step on a batch as TrainClips gives it (uint8 "clips", "flip", "label", and the
    video side's keys, e.g. object vectors): move it to the device, flip and normalise the clips
    there, forward the loss module (float16 autocast when amp) with the video side as keywords,
    backward through the gradient scaler, step.

    Returns the loss, and how many of the batch's clips the loss module labelled right as it went
    (its `batch_correct`, set in forward; None for a module that does not label, e.g. ResT trained on
    the masked token loss alone)."""
    side = {key: x.to(device, non_blocking=True) for key, x in batch.items()}
    clips = to_model_input(side.pop("clips"), side.pop("flip"))
    labels = side.pop("label")
    module = getattr(step, "module", step)  # under DistributedDataParallel
    module.batch_correct = None
    with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
        loss = step(clips, labels, **side)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss, module.batch_correct


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Job:
    """One training: what `train` was given, with the settings completed."""
    method: str
    train_videos: pd.DataFrame
    val_videos: pd.DataFrame
    classes: list
    semantics: dict
    model_cfg: dict
    train_cfg: dict
    sampling: dict
    seed: int
    threads: int
    model_path: object
    history_path: object
    checkpoint_path: object
    video_side: object = None  # zsar.methods.spec.VideoSide of the source videos, for a model that reads one

    @cached_property
    def fingerprint(self) -> str:
        side = {} if self.video_side is None else {"video_side": self.video_side.digest}
        return _fingerprint(method=self.method, model_cfg=self.model_cfg, train_cfg=self.train_cfg,
                            sampling=self.sampling, seed=self.seed, classes=self.classes, **self.semantics,
                            train=sorted(self.train_videos["video_id"]), val=sorted(self.val_videos["video_id"]),
                            **side)


def train(method: str, train_videos: pd.DataFrame, val_videos: pd.DataFrame, class_names: list[str], *,
          semantics: dict, model_cfg: dict, train_cfg: dict, sampling: dict, seed: int, threads: int,
          model_path, history_path, checkpoint_path=None, video_files: dict | None = None, log=_stderr) -> None:
    """Train `method` on the kept source classes and write model_path and history_path.

    `semantics` holds what the method needs of the class side (zsar.methods NEEDS: class_vectors,
    one row per class; class_tokens, the semantic stage's tokens per class), in `class_names`
    order. `model_cfg` and `train_cfg` are completed with the method's defaults (`resolve`).
    `video_files` are the files the method's spec names per source video (its `video_files`, e.g.
    JigsawNet's objects with model.objects), read by its `read_video_side`; a model whose settings
    name such files needs them. With
    `checkpoint_path`, a job killed at any point resumes from there; the checkpoint is deleted at
    the end.
    """
    model_cfg, train_cfg = resolve(method, model_cfg, train_cfg)
    missing = [need for need in method_spec(method).needs if semantics.get(need) is None]
    if missing:
        raise ValueError(f"method '{method}' needs {', '.join(missing)} to train")
    label_index = {name: i for i, name in enumerate(class_names)}
    train_videos = train_videos[train_videos["label"].isin(label_index)]
    val_videos = val_videos[val_videos["label"].isin(label_index)]
    if train_videos.empty:
        raise ValueError("no training videos belong to the kept source classes")
    spec = method_spec(method)
    wanted = set(spec.video_files(model_cfg, "source"))
    given = video_files or {}
    if set(given) != wanted:
        raise ValueError(f"method '{method}' with these settings reads {', '.join(sorted(wanted)) or 'no files'} "
                         f"per video, but was given {', '.join(sorted(given)) or 'none'}")
    video_side = spec.video_side(given)
    if video_side is not None:
        log(video_side.check(train_videos["video_id"], "training videos"))
    job = Job(method, train_videos, val_videos, class_names,
              {need: semantics[need] for need in method_spec(method).needs}, model_cfg, train_cfg, sampling,
              seed, threads, model_path, history_path,
              None if checkpoint_path is None else Path(checkpoint_path), video_side)
    processes = train_cfg["processes"]
    if processes == 1:
        _train_process(0, 1, job, log)
        return
    log(f"training in {processes} processes (DistributedDataParallel, "
        f"{'nccl' if torch.cuda.is_available() else 'gloo'})")
    with socket.socket() as s:  # a free port for the process group
        s.bind(("127.0.0.1", 0))
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(s.getsockname()[1])
    torch.multiprocessing.spawn(_train_process, args=(processes, job), nprocs=processes, join=True)


def _start_process(rank: int, world: int, job: Job) -> torch.device:
    """Join the process group, seed, make the run deterministic, and pick this rank's device."""
    cuda = torch.cuda.is_available()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world,
                                timeout=datetime.timedelta(hours=2))
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.manual_seed(job.seed)
    torch.set_num_threads(max(1, job.threads // world))
    torch.use_deterministic_algorithms(True)
    device = torch.device(f"cuda:{rank % torch.cuda.device_count()}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    return device


def _loader(job: Job, rank: int, world: int, cuda: bool):
    """The training clips (one random clip per video per epoch), this rank's share of them.

    A source cached in more shards than `train.shard_window` is read in runs of that many shards
    (ShardRuns); a smaller one in a plain shuffle, which reads the same shards anyway."""
    label_index = {name: i for i, name in enumerate(job.classes)}
    clip, options = job.sampling, {**LOADER_OPTIONS, **job.train_cfg}
    dataset = TrainClips(job.train_videos, label_index, length=clip["frames"], stride=clip["stride"],
                         crop=clip["crop"], seed=job.seed, max_open=options["open_shards"], video_side=job.video_side)
    if dataset.videos["shard_path"].nunique() > options["shard_window"]:
        sampler = ShardRuns(dataset.videos["shard_path"], options["shard_window"], job.seed, rank, world)
    elif world > 1:
        sampler = DistributedSampler(dataset, world, rank, shuffle=True, seed=job.seed)
    else:
        sampler = None
    workers, generator = job.train_cfg["workers"], torch.Generator().manual_seed(job.seed)
    if options["decode_threads"]:  # decoded in threads of this process: the same batches, no pixel copied
        loader = ThreadFeed(dataset, batch_size=job.train_cfg["batch_size"], threads=options["decode_threads"],
                            sampler=sampler, generator=generator, pin_memory=cuda)
        return dataset, sampler, loader
    loader = DataLoader(dataset, batch_size=job.train_cfg["batch_size"], shuffle=sampler is None, sampler=sampler,
                        num_workers=workers, generator=generator,
                        persistent_workers=workers > 0, pin_memory=cuda, prefetch_factor=4 if workers else None)
    return dataset, sampler, loader


def _resume(job: Job, rank: int, world: int, net, scaler, loader, device, log) -> dict | None:
    """The saved state to resume from, restored into net, scaler, loader and RNGs; None to start afresh."""
    path = job.checkpoint_path
    if path is None:
        return None
    if rank == 0:
        remove_stale_temporaries(path)  # left by a job killed while it wrote
    if not path.exists():
        return None
    state = load_weights(path)
    if state["fingerprint"] != job.fingerprint or state.get("world", 1) != world:
        log(f"{path} was written with other inputs, settings or process count: starting afresh")
        return None
    net.load_state_dict(state["model"])
    scaler.load_state_dict(state["scaler"])
    loader.generator.set_state(state["loader_generator"])
    torch.set_rng_state(state["torch_rng"][rank])
    if state.get("cuda_rng") is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"][rank])
    log(f"resuming from {path} after epoch {state['epoch']}")
    return state


def _train_epoch(step, optimizer, scaler, loader, device, amp, log, desc) -> torch.Tensor:
    """One pass over the loader; returns (loss sum, clip count, clips labelled right) of this rank,
    the last NaN when the loss module does not label its clips."""
    total = torch.zeros(3, dtype=torch.float64)
    progress = Progress(len(loader), "batches", log, desc=desc)
    for batch in loader:
        loss, correct = train_step(step, optimizer, scaler, batch, device, amp)
        correct = float("nan") if correct is None else float(correct)
        n = len(batch["label"])
        total += torch.tensor([loss.item() * n, n, correct], dtype=torch.float64)
        progress.advance()
    return total


def _save_checkpoint(job: Job, rank: int, world: int, **state) -> None:
    """Every rank's RNG states gathered, and the whole training state written atomically by rank 0."""
    cuda = torch.cuda.is_available()
    rng = [torch.get_rng_state()]
    cuda_rng = [torch.cuda.get_rng_state()] if cuda else None
    if world > 1:
        rng = [None] * world
        dist.all_gather_object(rng, torch.get_rng_state())
        if cuda:
            cuda_rng = [None] * world
            dist.all_gather_object(cuda_rng, torch.cuda.get_rng_state())
    if rank == 0:
        state = {"fingerprint": job.fingerprint, "world": world, **state, "torch_rng": rng, "cuda_rng": cuda_rng}
        with atomic_output(job.checkpoint_path) as tmp:
            torch.save(state, tmp)


def _write_outputs(job: Job, trainer, history: list[dict], best: dict) -> None:
    """history.csv, model.pt (the kept epoch's weights) and model.json."""
    with atomic_output(job.history_path) as tmp, open(tmp, "w", newline="") as handle:
        # A run resumed from an older checkpoint has rows without the newer columns: left empty.
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for row in history for k in row)))
        writer.writeheader()
        writer.writerows(history)
    checkpoint = {"method": job.method, **trainer.saved(), "state_dict": best["state_dict"], "classes": job.classes,
                  "epoch": best["epoch"], "val_top1": best["val_top1"]}
    with atomic_output(job.model_path) as tmp:
        torch.save(checkpoint, tmp)
    # What later stages need to know of the model without loading its weights.
    write_json(model_info_path(job.model_path), {
        "method": job.method, "classes": job.classes, "epoch": best["epoch"],
        "val_top1": None if np.isnan(best["val_top1"]) else best["val_top1"], "model_cfg": job.model_cfg})


def _train_process(rank: int, world: int, job: Job, log=_stderr) -> None:
    distributed = world > 1
    if rank != 0:
        log = lambda message: None  # noqa: E731  rank 0 speaks for all
    device = _start_process(rank, world, job)
    cuda = device.type == "cuda"
    # Mixed precision on a GPU; full precision on the CPU, where float16 autocast gains nothing.
    amp = cuda
    scaler = torch.amp.GradScaler("cuda", enabled=amp)

    trainer = method_spec(job.method).module.Training(job.classes, job.semantics, job.model_cfg, job.train_cfg)
    dataset, sampler, loader = _loader(job, rank, world, cuda)
    net = trainer.build().to(device)
    if rank:
        torch.manual_seed(job.seed + rank)  # dropout and word masking differ across ranks; weights start equal
    # Each rank validates its share of the held-out videos; the counts are summed.
    my_val = job.val_videos.iloc[rank::world]
    val_cfg = {**job.sampling, "workers": job.train_cfg["workers"], "video_side": job.video_side}
    log(f"{job.method}: training on {len(job.train_videos)} videos of {len(job.classes)} classes, "
        f"selecting on {len(job.val_videos)} held-out source videos")

    history, best, first_epoch = [], {"val_top1": -1.0}, 1
    resumed = _resume(job, rank, world, net, scaler, loader, device, log)
    if resumed is not None:
        history, best, first_epoch = resumed["history"], resumed["best"], resumed["epoch"] + 1

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
            total = _train_epoch(step, optimizer, scaler, loader, device, amp, log, f"epoch {epoch} ({phase.name})")
            lr = optimizer.param_groups[0]["lr"]
            scheduler.step()
            counts = torch.tensor([trainer.correct(net, phase, my_val, val_cfg) if len(my_val) else 0,
                                   len(my_val)], dtype=torch.float64)
            if distributed:
                dist.all_reduce(total)
                dist.all_reduce(counts)
            val_top1 = float(counts[0] / counts[1]) if counts[1] else float("nan")
            row = {"epoch": epoch, "phase": phase.name, "lr": lr, "clips": int(total[1]),
                   "train_loss": round(float(total[0] / total[1]), 6),
                   # on the training clips as they were drawn (augmented, dropout on), during the epoch
                   "train_top1": round(float(total[2] / total[1]), 6),
                   "val_top1": round(val_top1, 6), "seconds": round(time.perf_counter() - started, 2)}
            history.append(row)
            log(" ".join(f"{key}={value}" for key, value in row.items()))
            # Without held-out videos the last epoch is kept.
            if phase.select and (job.val_videos.empty or val_top1 > best["val_top1"]):
                best = {"epoch": epoch, "val_top1": val_top1,
                        "state_dict": {key: v.detach().to("cpu", copy=True)
                                       for key, v in trainer.final(net).state_dict().items()}}
            if job.checkpoint_path is not None:
                _save_checkpoint(job, rank, world, epoch=epoch, phase=phase.name, model=net.state_dict(),
                                 optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                                 scaler=scaler.state_dict(), loader_generator=loader.generator.get_state(),
                                 history=history, best=best)

    if rank == 0:
        _write_outputs(job, trainer, history, best)
        if job.checkpoint_path is not None and job.checkpoint_path.exists():
            job.checkpoint_path.unlink()
        log(f"kept epoch {best['epoch']} (val top-1 {best['val_top1']:.3f})")
    if distributed:
        # DistributedDataParallel's reducer holds gloo work with tensors: drop it, and collect, before
        # the group goes; left to the interpreter's exit, gloo's threads may abort the process.
        step = None  # noqa: F841
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def model_info_path(model_path) -> Path:
    """models/{run}/model.json beside model.pt: method, classes, kept epoch, settings."""
    return Path(model_path).with_suffix(".json")
