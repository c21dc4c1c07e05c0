"""Benchmark of the whole training feed: clip cache -> loader -> model step, against the same step on
a batch held in memory, per preset: clips/s, the TFLOP/s they achieve, and the loader's CPU cores.

The cache has --shards shard files (default 1,000; Kinetics-700 has ~1,200). A few distinct shards
(--videos-per-shard synthetic videos each: smooth moving gradients with a little noise, 4:3, enough
frames for a clip without looping) are written through zsar.data.cache.ShardWriter as decode_clips
writes them (JPEG q90 unless --codec raw) at the short side decode_clips caches for the crop, and
copied to make up the rest: every shard is its own file, opened and indexed when read. The videos
table is cached_videos() over all of them. The cache of a short side is deleted after the last
preset that reads it. The files sit in the page cache after being written, so the figures leave
the disk out.

A training job's pieces read it and take the step: the loader is zsar.models.training._loader's
(TrainClips with train.open_shards handles, ShardRuns over windows of train.shard_window shards
when the cache has more shards than that, with --workers loader processes or --threads decoding
threads of this process), the step train_step under a DeviceStep resolved from --precision,
--channels-last, --compile and --no-deterministic as training resolves them. "cache" reads each
batch through the loader, each measurement from a fresh pass in a new epoch's order; "memory"
reuses one batch already on the device. A ratio near 1 means the loader keeps up.

The sides are interleaved: after an untimed warm-up step of each, --rounds rounds each time memory
then cache (--steps timed steps each, after one untimed step); each side's figure is its median over
the rounds, and the ratio is the median of the rounds' paired ratios cache / memory, with its min-max.
GFLOP/clip is one training step (forward and backward) counted by torch.utils.flop_counter in
float32 (matrix multiplies and convolutions, a multiply-add counted as 2), per clip; TFLOP/s is
each side's clips/s times that, to compare with the device's peak.

Loader cores: the CPU the loader used, in cores, over the cache side's timed steps: CPU seconds of
this process (all its threads) and its live child processes (loader workers, from /proc; this
process alone where there is no /proc), less the CPU seconds this process spent on the memory side
for as many clips, divided by the cache side's wall seconds; median over the rounds. On the CPU the
model's own CPU time swamps it (it can come out below 0); it is meant for a GPU.

    .venv/bin/python benchmarks/train_throughput.py [--presets e2e rest18] [--shards 1000]
        [--batch 2] [--steps 3] [--rounds 3] [--workers 2 | --threads N] [--codec jpeg|raw]
        [--precision auto|bf16|fp16|fp32] [--channels-last auto|true|false] [--compile [BACKEND]]
        [--no-deterministic] [--tiny]

--tiny swaps in tiny models (E2E with widths [4, 8] and layers [1, 1], ResT's tiny preset) and
clips of 4 frames at 28 from 16-frame videos cached at 32, for the tests. On the CPU the full
presets take minutes; pass --batch/--steps to trade time for precision.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from zsar.data.cache import ShardWriter, cached_videos
from zsar.data.jpeg import decode_clips
from zsar.methods import LOADER_OPTIONS, SAMPLING_PRESETS, method, resolve
from zsar.models.training import DeviceStep, Job, _loader, train_step

N_CLASSES, N_FRAMES, DISTINCT_SHARDS = 10, 96, 4
PRESETS = ("e2e", "rest18", "rest34", "rest101")
# --tiny: clips, frames per video and models small enough for a test on 2 CPU cores.
TINY_SAMPLING = {"frames": 4, "stride": 2, "crop": 28}
TINY_FRAMES = 16
TINY_MODELS = {"e2e": {"widths": [4, 8], "layers": [1, 1]}, "rest": {"preset": "tiny"}}
CLOCK_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def write_cache(folder: Path, shards: int, videos_per_shard: int, short_side: int, n_frames: int,
                codec: str) -> pd.DataFrame:
    """`shards` shard files in `folder`: the first few written, the rest copies of them."""
    height, width = short_side, round(short_side * 4 / 3)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:height, :width]
    folder.mkdir(parents=True)
    paths = [folder / f"{k:05d}.h5" for k in range(shards)]
    written = paths[:min(shards, DISTINCT_SHARDS)]
    for s, path in enumerate(written):
        with ShardWriter(path, short_side=short_side, codec=codec) as writer:
            for j in range(videos_per_shard):
                v = s * videos_per_shard + j
                phase = rng.uniform(0, 6.3, 3)
                frames = np.stack([
                    np.stack([127 + 120 * np.sin(xx / 17.0 + yy / 23.0 + 0.2 * t + phase[c]) for c in range(3)], -1)
                    for t in range(n_frames)])
                frames = (frames + rng.normal(0, 4, frames.shape)).clip(0, 255).astype(np.uint8)
                writer.add(f"v{v}", f"class{v % N_CLASSES}", frames)
    for k, path in enumerate(paths[len(written):], start=len(written)):
        shutil.copyfile(written[k % len(written)], path)
    return cached_videos(paths)


def cpu_seconds(children: bool) -> float:
    """CPU seconds used so far by this process (all threads) and, with `children`, its live children."""
    total = time.process_time()
    if children:
        for listing in Path("/proc/self/task").glob("*/children"):
            try:
                pids = listing.read_text().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:  # the child has gone
                    continue
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICK  # utime, stime (stat fields 14, 15)
    return total


def measure(step, optimizer, scaler, batches, how: DeviceStep, steps: int, children: bool = False):
    """Clips, wall seconds and CPU seconds of `steps` training steps on `batches`, after one untimed step
    (allocation, the loader starting)."""
    device = how.device
    done, started, cpu = 0, None, None
    for k, batch in enumerate(batches):  # batch: {clips: uint8, flip, label}
        if k == 1:
            if device.type == "cuda":
                torch.cuda.synchronize()
            started, cpu, done = time.perf_counter(), cpu_seconds(children), 0
        train_step(step, optimizer, scaler, batch, device, how)
        done += len(batch["label"])
        if k == steps:
            break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return done, time.perf_counter() - started, cpu_seconds(children) - cpu


def flops_per_clip(step, optimizer, batch, device) -> float:
    """FLOPs of one training step on `batch` (forward, backward), per clip; the step is taken, in full
    precision, so count it before the timed steps."""
    from torch.utils.flop_counter import FlopCounterMode

    full = DeviceStep.of(device, {"precision": "fp32", "channels_last": False})
    with FlopCounterMode(display=False) as counter:
        train_step(step, optimizer, full.scaler(), batch, device, full)
    return counter.get_total_flops() / len(batch["label"])


def job_for(preset: str, videos: pd.DataFrame, sampling: dict, device_options: dict, args) -> Job:
    """The training job a run of `preset` on `videos` would be, with this benchmark's settings."""
    name = "e2e" if preset == "e2e" else "rest"
    model = TINY_MODELS[name] if args.tiny else ({} if name == "e2e" else {"preset": preset})
    model_cfg, train_cfg = resolve(name, model, {
        "batch_size": args.batch, "workers": 0 if args.threads else args.workers, "decode_threads": args.threads,
        **device_options})
    classes = sorted(videos["label"].unique())
    semantics = {"class_vectors": np.eye(len(classes), 300, dtype=np.float32),
                 "class_tokens": [[f"w{c}", f"w{c + 1}"] for c in range(len(classes))]}
    return Job(method=name, train_videos=videos, val_videos=videos.iloc[:0], classes=classes,
               semantics=semantics, model_cfg=model_cfg, train_cfg=train_cfg, sampling=sampling, seed=0,
               threads=torch.get_num_threads(), model_path=None, history_path=None, checkpoint_path=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["e2e", "rest18"], choices=PRESETS)
    parser.add_argument("--shards", type=int, default=1000, help="shard files in the cache")
    parser.add_argument("--videos-per-shard", type=int, default=2)
    parser.add_argument("--batch", type=int, default=2, help="clips per step (papers: 22 for E2E, 16 for ResT)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per measurement")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers for the cache loader")
    parser.add_argument("--threads", type=int, default=0,
                        help="decode in this many threads of the training process instead (train.decode_threads)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (memory, cache) per preset")
    parser.add_argument("--codec", default="jpeg", choices=["jpeg", "raw"], help="the cache's codec (raw: blosc-lz4)")
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp16", "fp32"])
    parser.add_argument("--channels-last", default="auto", choices=["auto", "true", "false"])
    parser.add_argument("--compile", nargs="?", const="inductor", default=None, metavar="BACKEND",
                        help="torch.compile the loss module (default backend: inductor)")
    parser.add_argument("--no-deterministic", action="store_true", help="let cuDNN benchmark its algorithms")
    parser.add_argument("--decode", default="cpu", choices=["cpu", "device"],
                        help="device: the clips travel as JPEG, decoded on the model's device (train.decode)")
    parser.add_argument("--tiny", action="store_true", help="tiny models and clips, for the tests")
    args = parser.parse_args()
    if args.shards < 1 or args.videos_per_shard < 1:
        parser.error("--shards and --videos-per-shard must be positive")

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # as training: deterministic cuBLAS
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    cuda = device.type == "cuda"
    torch.manual_seed(0)
    folder = Path(tempfile.mkdtemp(prefix="train_throughput."))
    sampling = {p: {**SAMPLING_PRESETS[p], **(TINY_SAMPLING if args.tiny else {})} for p in args.presets}
    short_sides = {p: s["crop"] + s["crop"] // 7 for p, s in sampling.items()}  # as decode_clips caches
    n_frames = TINY_FRAMES if args.tiny else N_FRAMES
    window, handles = LOADER_OPTIONS["shard_window"], LOADER_OPTIONS["open_shards"]
    device_options = {"precision": args.precision,
                      "channels_last": {"auto": "auto", "true": True, "false": False}[args.channels_last],
                      "deterministic": not args.no_deterministic, "compile": args.compile or False,
                      "decode": args.decode}
    how = DeviceStep.of(device, device_options)  # as training resolves train.precision etc.
    torch.use_deterministic_algorithms(how.deterministic)
    torch.backends.cudnn.benchmark = not how.deterministic
    print(f"device: {torch.cuda.get_device_name() if cuda else f'CPU, {torch.get_num_threads()} threads'}; "
          f"{how.precision}{', channels-last' if how.channels_last else ''}"
          f"{'' if how.deterministic else ', cuDNN benchmark'}{f', compiled ({how.compile})' if how.compile else ''}"
          f"{', JPEG decoded there' if how.decode else ''}"
          f"; batch {args.batch}, {args.steps} timed steps x {args.rounds} interleaved rounds, "
          f"{f'{args.threads} decoding threads' if args.threads else f'{args.workers} loader workers'}"
          f"{'; tiny models' if args.tiny else ''}")
    print(f"cache: {args.shards} shards x {args.videos_per_shard} videos ({min(args.shards, DISTINCT_SHARDS)} "
          f"written, the rest copies), {n_frames} frames a video, {args.codec}; {handles} open shards, "
          f"{f'ShardRuns of {window} shards' if args.shards > window else 'plain shuffle'}", flush=True)
    print(f"{'preset':<9}{'frames x crop':>15}{'cache (clips/s)':>17}{'memory (clips/s)':>18}"
          f"{'ratio (min-max)':>22}{'GFLOP/clip':>12}{'TFLOP/s cache, memory':>24}{'loader cores':>14}", flush=True)
    caches, set_up = {}, {}
    try:
        for i, preset in enumerate(args.presets):
            clip, short_side = sampling[preset], short_sides[preset]
            if short_side not in caches:
                started = time.perf_counter()
                caches[short_side] = write_cache(folder / f"cache{short_side}", args.shards, args.videos_per_shard,
                                                 short_side, n_frames, args.codec)
                set_up[short_side] = time.perf_counter() - started
            job = job_for(preset, caches[short_side], clip, device_options, args)
            trainer = method(job.method).module.Training(job.classes, job.semantics, job.model_cfg, job.train_cfg)
            phase = trainer.phases[-1]
            net = how.prepare(trainer.build().to(device)).train()
            optimizer, _ = trainer.optimizer(net, phase)
            module = trainer.loss_module(net, phase, device)
            step, scaler = how.wrap(module), how.scaler()
            dataset, sampler, loader = _loader(job, 0, 1, how)
            epoch = [0]

            def cached(dataset=dataset, sampler=sampler, loader=loader, epoch=epoch):
                """Batches from a fresh pass of the loader, in a new epoch's order, as training reads them."""
                while True:
                    epoch[0] += 1
                    dataset.set_epoch(epoch[0])
                    if sampler is not None:
                        sampler.set_epoch(epoch[0])
                    yield from loader

            first = dict(next(cached()))
            if "jpeg" in first:  # the memory side holds decoded clips
                first["clips"] = decode_clips(first, device)
            in_memory = {key: x.to(device) for key, x in first.items()}

            def memory(batch=in_memory):
                return iter(lambda: batch, None)

            flops = flops_per_clip(module, optimizer, in_memory, device)
            measure(step, optimizer, scaler, memory(), how, 1)  # warm up both sides
            measure(step, optimizer, scaler, cached(), how, 1, children=True)
            rounds = []
            for _ in range(args.rounds):
                clips_m, wall_m, cpu_m = measure(step, optimizer, scaler, memory(), how, args.steps)
                clips_c, wall_c, cpu_c = measure(step, optimizer, scaler, cached(), how, args.steps, children=True)
                rounds.append((clips_m / wall_m, clips_c / wall_c, (cpu_c - cpu_m / clips_m * clips_c) / wall_c))
            rates = np.array(rounds)
            memory_rate, cache_rate, cores = np.median(rates, axis=0)
            ratio = rates[:, 1] / rates[:, 0]
            print(f"{preset:<9}{clip['frames']:>8} x {clip['crop']:<4}{cache_rate:>17.2f}{memory_rate:>18.2f}"
                  f"{np.median(ratio):>9.2f} ({ratio.min():.2f}-{ratio.max():.2f}){flops / 1e9:>12.4g}"
                  f"{f'{cache_rate * flops / 1e12:.3g}, {memory_rate * flops / 1e12:.3g}':>24}{cores:>14.2f}",
                  flush=True)
            del dataset, sampler, loader, step, module, optimizer, net
            if short_side not in [short_sides[p] for p in args.presets[i + 1:]]:  # no later preset reads it
                shutil.rmtree(folder / f"cache{short_side}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("cache set-up (write, copy, index): " + ", ".join(f"short side {s}: {t:.1f} s" for s, t in set_up.items()))


if __name__ == "__main__":
    main()
