"""The training loop every method shares: data, device, DistributedDataParallel, mixed precision,
checkpoints and resume, validation and model selection, logs. No method's name appears here; a
method (zsar/methods/<name>.py) brings a `Training` with its phases, model, loss, optimizer and
validation rule.

The model kept is the epoch with the best top-1 on the source dataset's held-out (val) videos, among
the training classes only, in a phase the method allows (`Phase.select`): target classes never take
part in model selection.

Every epoch the whole training state is saved atomically; a job killed at any point resumes from it
when run again with the same inputs and settings, and ends with the same weights as an uninterrupted
run. With `processes` (x `nodes`) > 1 the loop runs in that many processes under
DistributedDataParallel (NCCL on GPUs, gloo on the CPU), started by torch's elastic launcher (what
torchrun runs); every rank validates its share, rank 0 writes checkpoints and the outputs.
"""

from __future__ import annotations

import csv
import datetime
import gc
import hashlib
import json
import os
import signal
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
from zsar.data.jpeg import collate, decode_clips
from zsar.data.sampling import to_model_input
from zsar.io import atomic_output, load_weights, remove_stale_temporaries, write_json
from zsar.methods import DEVICE_OPTIONS, EXECUTION_ONLY, LOADER_OPTIONS, method as method_spec, resolve
from zsar.models.extract import embed_videos
from zsar.progress import Progress


@dataclass
class Phase:
    name: str
    epochs: int
    select: bool  # whether the kept model may come from this phase
    last: bool = False  # keep its last epoch, whatever the held-out videos' top-1 (a method that reads no label)


def validation_embeddings(model, videos, sampling) -> np.ndarray:
    """What `model.embed` gives for `videos`' test clips (averaged), as validation reads them."""
    return embed_videos(model, videos, length=sampling["frames"], stride=sampling["stride"],
                        crop=sampling["crop"], n_clips=sampling["test_clips"], workers=sampling.get("workers", 0),
                        video_side=sampling.get("video_side"))


def nearest_vector_correct(model, videos, sampling, classes: list[str], vectors: np.ndarray) -> int:
    """How many of `videos` `model` labels right by the nearest of `vectors`, one row per class."""
    return count_correct(videos, classes, validation_embeddings(model, videos, sampling) @ np.asarray(vectors).T)


class NearestClassVector:
    """What a method's Training shares when it labels a video by the nearest class vector
    (`self.classes`, `self.vectors`: one row each) and keeps its network as trained (E2E,
    zero-shot CLIP): validation, the kept network, and what its checkpoint records."""

    def correct(self, net, phase, videos, sampling) -> int:
        """How many of `videos` the model labels right: the nearest class vector."""
        return nearest_vector_correct(net, videos, sampling, self.classes, self.vectors)

    def final(self, net) -> nn.Module:
        return net

    def saved(self) -> dict:
        return {"model_cfg": self.model_cfg, "embed_dim": self.vectors.shape[1]}


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


@dataclass(frozen=True)
class DeviceStep:
    """How a training step uses its device (train.precision, channels_last, deterministic, compile
    resolved for it): autocast to `dtype` (None: float32), a gradient scaler where float16 needs one."""
    device: torch.device
    dtype: torch.dtype | None
    channels_last: bool
    deterministic: bool
    compile: str | None  # a torch.compile backend
    decode: bool = False  # the training clips' JPEG frames decoded on the device (zsar.data.jpeg)

    @classmethod
    def of(cls, device: torch.device, train_cfg: dict) -> "DeviceStep":
        options = {**DEVICE_OPTIONS, **train_cfg}
        cuda = device.type == "cuda"
        precision = options["precision"]
        if precision == "auto":
            precision = ("bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp16") if cuda else "fp32"
        if precision == "bf16" and not cuda:
            raise ValueError(
                "train.precision bf16 on the CPU: in zsar's tests with torch 2.14.1, bfloat16 autocast on the CPU "
                "gave losses that differed run to run and NaN in half the runs (float16 and float32 repeat to the "
                "bit); train on the CPU in fp32 (precision auto) or fp16, and in bf16 on a GPU")
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[precision]
        channels_last = cuda if options["channels_last"] == "auto" else options["channels_last"]
        backend = options["compile"]
        backend = "inductor" if backend is True else (backend or None)
        return cls(device, dtype, channels_last, options["deterministic"], backend, options["decode"] == "device")

    @property
    def precision(self) -> str:
        return {torch.bfloat16: "bf16", torch.float16: "fp16", None: "fp32"}[self.dtype]

    def scaler(self) -> torch.amp.GradScaler:
        return torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)

    def prepare(self, net: nn.Module) -> nn.Module:
        """The network's convolution weights channels-last (5-d: channels_last_3d), when asked."""
        if self.channels_last:
            for module in net.modules():
                if isinstance(module, (nn.Conv3d, nn.Conv2d)):
                    layout = torch.channels_last_3d if module.weight.dim() == 5 else torch.channels_last
                    module.weight.data = module.weight.data.contiguous(memory_format=layout)
        return net

    def wrap(self, step: nn.Module) -> nn.Module:
        return torch.compile(step, backend=self.compile) if self.compile else step

    def clips(self, clips: torch.Tensor) -> torch.Tensor:
        return clips.contiguous(memory_format=torch.channels_last_3d) if self.channels_last and clips.dim() == 5 else clips


def train_step(step, optimizer, scaler, batch: dict, device, how: DeviceStep) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One optimizer step on a batch as TrainClips gives it (uint8 "clips", "flip", "label", and the
    video side's keys, e.g. object vectors): move it to the device, flip and normalise the clips
    there, forward the loss module (autocast to `how`'s precision) with the video side as keywords,
    backward through the gradient scaler, step.

    Returns the loss, and how many of the batch's clips the loss module labelled right as it went
    (its `batch_correct`, set in forward; None for a module that does not label, e.g. ResT trained on
    the masked token loss alone)."""
    batch = dict(batch)
    clips = batch.pop("clips") if "clips" in batch else decode_clips(batch, device)  # JPEG: decoded there
    side = {key: x.to(device, non_blocking=True) for key, x in batch.items()}
    clips = how.clips(to_model_input(clips.to(device, non_blocking=True), side.pop("flip")))
    labels = side.pop("label")
    module = getattr(step, "_orig_mod", step)  # under torch.compile
    module = getattr(module, "module", module)  # under DistributedDataParallel
    module.batch_correct = None
    with torch.autocast(device.type, dtype=how.dtype or torch.float32, enabled=how.dtype is not None):
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
        learns = {key: value for key, value in self.train_cfg.items() if key not in EXECUTION_ONLY}
        return _fingerprint(method=self.method, model_cfg=self.model_cfg, train_cfg=learns,
                            sampling=self.sampling, seed=self.seed, classes=self.classes, **self.semantics,
                            train=sorted(self.train_videos["video_id"]), val=sorted(self.val_videos["video_id"]),
                            **side)


def train(method: str, train_videos: pd.DataFrame, val_videos: pd.DataFrame, class_names: list[str], *,
          semantics: dict, model_cfg: dict, train_cfg: dict, sampling: dict, seed: int, threads: int,
          model_path, history_path, checkpoint_path=None, video_files: dict | None = None,
          rendezvous: "Rendezvous | None" = None, log=_stderr) -> None:
    """Train `method` on the kept source classes and write model_path and history_path.

    `semantics` holds what the method needs of the class side (zsar.methods NEEDS: class_vectors,
    one row per class; class_tokens, the semantic stage's tokens per class), in `class_names`
    order. `model_cfg` and `train_cfg` are completed with the method's defaults (`resolve`).
    `video_files` are the files the method's spec names per source video (its `video_files`, e.g.
    JigsawNet's objects with model.objects), read by its `read_video_side`; a model whose settings
    name such files needs them. With
    `checkpoint_path`, a job killed at any point resumes from there; the checkpoint is deleted at
    the end.

    With train.processes x train.nodes > 1 the loop runs in that many processes under
    DistributedDataParallel; on several nodes each node's launcher calls `train` with the same
    inputs and its `rendezvous` (zsar.models.launch does both).
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
        if hasattr(video_side, "select"):  # the side chooses the videos it trains on (MAXI's confident matches)
            chosen, line = video_side.select(class_names, train_videos["video_id"], model_cfg)
            train_videos = train_videos[train_videos["video_id"].isin(set(chosen))]
            log(line)
            if train_videos.empty:
                raise ValueError("the method's video side kept none of the training videos")
    job = Job(method, train_videos, val_videos, class_names,
              {need: semantics[need] for need in method_spec(method).needs}, model_cfg, train_cfg, sampling,
              seed, threads, model_path, history_path,
              None if checkpoint_path is None else Path(checkpoint_path), video_side)
    processes, nodes = train_cfg["processes"], train_cfg.get("nodes", 1)
    if processes * nodes == 1:
        _train_process(0, 1, 0, job, log)
        return
    if nodes > 1 and rendezvous is None:
        raise ValueError(f"train.nodes is {nodes}: training on several machines starts one launcher on each "
                         "(zsar.models.launch, in a SLURM job of that many nodes), which says where they meet")
    log(f"training in {processes * nodes} processes, {processes} on each of {nodes} node(s) "
        f"(DistributedDataParallel over {'nccl' if torch.cuda.is_available() else 'gloo'})")
    launch_processes(job, processes, nodes, rendezvous or Rendezvous.local())


@dataclass(frozen=True)
class Rendezvous:
    """Where the launchers of one training meet: the first node's address and a free port there,
    and this launcher's node rank (static ranks: process r of node n is rank n * processes + r, so a
    rerun deals the videos to the same processes, and ends with the same weights)."""
    address: str
    port: int
    node_rank: int
    run_id: str

    @classmethod
    def local(cls) -> "Rendezvous":
        return cls("127.0.0.1", free_port(), 0, f"zsar-{os.getpid()}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def launch_processes(job: Job, processes: int, nodes: int, meet: Rendezvous) -> None:
    """Start `processes` training processes on this node with torch's elastic launcher (what
    torchrun runs), static rendezvous with the other nodes' launchers, no restarts: a job that fails
    is rerun by Snakemake (or the cluster's retries) and resumes from its checkpoint."""
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=nodes, max_nodes=nodes, nproc_per_node=processes, run_id=meet.run_id,
                          rdzv_backend="static", rdzv_endpoint=f"{meet.address}:{meet.port}",
                          rdzv_configs={"rank": meet.node_rank, "timeout": 900}, max_restarts=0,
                          monitor_interval=0.5, start_method="spawn")
    elastic_launch(config, _launched_process)(job)


def _launched_process(job: Job) -> None:
    """A process the launcher started: its ranks from the launcher's environment. It dies with its
    launcher (a launcher killed with SIGKILL cannot stop it)."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    env = os.environ
    _train_process(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env["LOCAL_RANK"]), job)


def _start_process(rank: int, world: int, local_rank: int, job: Job) -> tuple[torch.device, DeviceStep]:
    """Join the process group, seed, make the run deterministic (unless train.deterministic is
    false), and pick this process's device and how its step uses it."""
    cuda = torch.cuda.is_available()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world,
                                timeout=datetime.timedelta(hours=2))
    device = torch.device(f"cuda:{local_rank % torch.cuda.device_count()}" if cuda else "cpu")
    how = DeviceStep.of(device, job.train_cfg)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.manual_seed(job.seed)
    torch.set_num_threads(max(1, job.threads // max(1, world // job.train_cfg.get("nodes", 1))))
    torch.use_deterministic_algorithms(how.deterministic)
    torch.backends.cudnn.benchmark = not how.deterministic
    if cuda:
        torch.cuda.set_device(device)
    return device, how


def _loader(job: Job, rank: int, world: int, how: DeviceStep):
    """The training clips (one random clip per video per epoch), this rank's share of them.

    A source cached in more shards than `train.shard_window` is read in runs of that many shards
    (ShardRuns); a smaller one in a plain shuffle, which reads the same shards anyway."""
    cuda = how.device.type == "cuda"  # batches pinned for the copy to the GPU
    label_index = {name: i for i, name in enumerate(job.classes)}
    clip, options = job.sampling, {**LOADER_OPTIONS, **job.train_cfg}
    dataset = TrainClips(job.train_videos, label_index, length=clip["frames"], stride=clip["stride"],
                         crop=clip["crop"], seed=job.seed, max_open=options["open_shards"], video_side=job.video_side,
                         encoded=how.decode)
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
                        num_workers=workers, generator=generator, collate_fn=collate,
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


def _train_epoch(step, optimizer, scaler, loader, device, how, log, desc) -> torch.Tensor:
    """One pass over the loader; returns (loss sum, clip count, clips labelled right) of this rank,
    the last NaN when the loss module does not label its clips."""
    total = torch.zeros(3, dtype=torch.float64)
    progress = Progress(len(loader), "batches", log, desc=desc)
    for batch in loader:
        loss, correct = train_step(step, optimizer, scaler, batch, device, how)
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


def _validate(trainer, net, phase, videos, sampling, distributed: bool) -> float:
    """Top-1 on the held-out source videos, each rank's share counted and summed; NaN without any."""
    counts = torch.tensor([trainer.correct(net, phase, videos, sampling) if len(videos) else 0, len(videos)],
                          dtype=torch.float64)
    if distributed:
        dist.all_reduce(counts)
    return float(counts[0] / counts[1]) if counts[1] else float("nan")


def _kept(trainer, net, epoch: int, val_top1: float) -> dict:
    """The kept model: its epoch, val top-1 and a CPU copy of its weights."""
    return {"epoch": epoch, "val_top1": val_top1,
            "state_dict": {key: v.detach().to("cpu", copy=True) for key, v in trainer.final(net).state_dict().items()}}


def _train_process(rank: int, world: int, local_rank: int, job: Job, log=_stderr) -> None:
    distributed = world > 1
    if rank != 0:
        log = lambda message: None  # noqa: E731  rank 0 speaks for all
    device, how = _start_process(rank, world, local_rank, job)
    cuda = device.type == "cuda"
    scaler = how.scaler()

    trainer = method_spec(job.method).module.Training(job.classes, job.semantics, job.model_cfg, job.train_cfg)
    dataset, sampler, loader = _loader(job, rank, world, how)
    net = how.prepare(trainer.build().to(device))
    log(f"on {torch.cuda.get_device_name(device) if cuda else 'the CPU'}: {how.precision}"
        f"{', channels-last' if how.channels_last else ''}{'' if how.deterministic else ', cuDNN benchmark'}"
        f"{f', compiled ({how.compile})' if how.compile else ''}{', JPEG decoded there' if how.decode else ''}")
    if rank:
        torch.manual_seed(job.seed + rank)  # dropout and word masking differ across ranks; weights start equal
    # Each rank validates its share of the held-out videos; the counts are summed.
    my_val = job.val_videos.iloc[rank::world]
    tests_read = method_spec(job.method).test_reads_video_side
    val_cfg = {**job.sampling, "workers": job.train_cfg["workers"], "video_side": job.video_side if tests_read else None}
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
        step = how.wrap(step)
        for epoch in range(max(first_epoch, starts[k] + 1), starts[k + 1] + 1):
            started = time.perf_counter()
            net.train()
            dataset.set_epoch(epoch)
            if sampler is not None:
                sampler.set_epoch(epoch)
            total = _train_epoch(step, optimizer, scaler, loader, device, how, log, f"epoch {epoch} ({phase.name})")
            lr = optimizer.param_groups[0]["lr"]
            scheduler.step()
            val_top1 = _validate(trainer, net, phase, my_val, val_cfg, distributed)
            if distributed:
                dist.all_reduce(total)
            row = {"epoch": epoch, "phase": phase.name, "lr": lr, "clips": int(total[1]),
                   "train_loss": round(float(total[0] / total[1]), 6),
                   # on the training clips as they were drawn (augmented, dropout on), during the epoch
                   "train_top1": round(float(total[2] / total[1]), 6),
                   "val_top1": round(val_top1, 6), "seconds": round(time.perf_counter() - started, 2)}
            history.append(row)
            log(" ".join(f"{key}={value}" for key, value in row.items()))
            # Without held-out videos the last epoch is kept.
            if phase.select and (job.val_videos.empty or phase.last or val_top1 > best["val_top1"]):
                best = _kept(trainer, net, epoch, val_top1)
            if job.checkpoint_path is not None:
                _save_checkpoint(job, rank, world, epoch=epoch, phase=phase.name, model=net.state_dict(),
                                 optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                                 scaler=scaler.state_dict(), loader_generator=loader.generator.get_state(),
                                 history=history, best=best)

    if "state_dict" not in best:  # a method that trains no epoch (zero-shot): the model as built, validated
        started = time.perf_counter()
        val_top1 = _validate(trainer, net, trainer.phases[-1], my_val, val_cfg, distributed)
        history.append({"epoch": 0, "phase": trainer.phases[-1].name, "lr": 0.0, "clips": 0, "train_loss": float("nan"),
                        "train_top1": float("nan"), "val_top1": round(val_top1, 6),
                        "seconds": round(time.perf_counter() - started, 2)})
        best = _kept(trainer, net, 0, val_top1)
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
