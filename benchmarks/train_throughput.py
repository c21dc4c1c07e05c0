"""Benchmark (issue 6): training clips per second for each preset, with the clip-cache loader against
in-memory tensors, to show whether the loader holds the device back.

Each preset trains with its paper's sampling (E2E: 16 frames at 112; ResT-18/34/101: 16/8/4 frames at
224) on a clip cache of smooth synthetic frames (N_FRAMES per video, enough for a stride-6 clip without
looping) written through zsar.data.cache.ShardWriter as decode_clips writes them (JPEG q90 unless --codec
raw). A step is `zsar.models.training.train_step` on the loader's batch (a dict of uint8 clips, flips, labels): move to
the device, flip and normalise there, forward, backward and optimizer step of the real loss (E2E's
regression; ResT's joint CE + 0.5 MTL). "cache" reads every batch through TrainClips and a DataLoader (or, with --threads, a ThreadFeed);
"memory" reuses one batch already on the device. A ratio near 1 means the loader keeps up.

The sides are interleaved: after an untimed warm-up step of each, --rounds rounds each time memory
then cache (--steps timed steps each, after one untimed step); each side's figure is its median over
the rounds, and the ratio is the median of the rounds' paired ratios cache / memory, with its min-max.
Beside clips/s it prints the model's FLOPs per training clip (forward and backward of one step,
counted by torch.utils.flop_counter: matrix multiplies and convolutions, multiply-adds counted as 2)
and the TFLOP/s that each side's clips/s achieves with them, to compare against the device's peak.

    .venv/bin/python benchmarks/train_throughput.py [--presets e2e rest18 ...] [--batch 4] [--steps 3] [--rounds 3]

On the CPU the full presets take minutes; pass --batch/--steps to trade time for precision. On a
GPU, mixed precision is used as in training.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from zsar.data.cache import ShardWriter, cached_videos
from zsar.data.clips import ThreadFeed, TrainClips
from zsar.methods import SAMPLING_PRESETS
from zsar.methods import method, resolve
from zsar.models.training import train_step

N_CLASSES, N_VIDEOS, N_FRAMES = 10, 24, 96
PRESETS = ("e2e", "rest18", "rest34", "rest101")


def write_cache(path: Path, short_side: int, codec: str) -> pd.DataFrame:
    """A shard of N_VIDEOS videos at a 4:3 aspect, smooth moving gradients with a little noise."""
    height, width = short_side, round(short_side * 4 / 3)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:height, :width]
    with ShardWriter(path, short_side=short_side, codec=codec) as writer:
        for v in range(N_VIDEOS):
            phase = rng.uniform(0, 6.3, 3)
            frames = np.stack([
                np.stack([127 + 120 * np.sin(xx / 17.0 + yy / 23.0 + 0.2 * t + phase[c]) for c in range(3)], -1)
                for t in range(N_FRAMES)])
            frames = (frames + rng.normal(0, 4, frames.shape)).clip(0, 255).astype(np.uint8)
            writer.add(f"v{v}", f"class{v % N_CLASSES}", frames)
    return cached_videos([path])


def trainer_for(preset: str, classes: list[str]):
    name = "e2e" if preset == "e2e" else "rest"
    model, train = resolve(name, {} if name == "e2e" else {"preset": preset}, {})
    semantics = {"class_vectors": np.eye(N_CLASSES, 300, dtype=np.float32),
                 "class_tokens": [[f"w{c}", f"w{c + 1}"] for c in range(N_CLASSES)]}
    return method(name).module.Training(classes, semantics, model, train)


def clips_per_second(step, optimizer, batches, device, amp, steps: int) -> float:
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    done, started = 0, None
    for k, batch in enumerate(batches):  # batch: {clips: uint8, flip, label}
        if k == 1:  # the first step (allocation, workers starting) is not timed
            if device.type == "cuda":
                torch.cuda.synchronize()
            started, done = time.perf_counter(), 0
        train_step(step, optimizer, scaler, batch, device, amp)
        done += len(batch["label"])
        if k == steps:
            break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return done / (time.perf_counter() - started)


def flops_per_clip(step, optimizer, batch, device) -> float:
    """FLOPs of one training step on `batch` (forward, backward), per clip; the step is taken, in full
    precision, so count it before the timed steps."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        train_step(step, optimizer, torch.amp.GradScaler("cuda", enabled=False), batch, device, False)
    return counter.get_total_flops() / len(batch["label"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--batch", type=int, default=2, help="clips per step (papers: 22 for E2E, 16 for ResT)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per measurement")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers for the cache loader")
    parser.add_argument("--threads", type=int, default=0,
                        help="decode in this many threads of the training process instead (train.decode_threads)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (memory, cache) per preset")
    parser.add_argument("--codec", default="jpeg", choices=["jpeg", "raw"], help="the cache's codec (raw: blosc-lz4)")
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    amp = device.type == "cuda"
    torch.manual_seed(0)
    folder = Path(tempfile.mkdtemp())
    caches = {}
    print(f"device: {torch.cuda.get_device_name() if amp else f'CPU, {torch.get_num_threads()} threads'}; "
          f"batch {args.batch}, {args.steps} timed steps x {args.rounds} interleaved rounds, "
          f"{f'{args.threads} decoding threads' if args.threads else f'{args.workers} loader workers'}, {args.codec} cache")
    print(f"{'preset':<9}{'frames x crop':>15}{'cache (clips/s)':>17}{'memory (clips/s)':>18}"
          f"{'ratio (min-max)':>22}{'GFLOP/clip':>12}{'TFLOP/s cache, memory':>24}")
    for preset in args.presets:
        clip = SAMPLING_PRESETS[preset]
        short_side = clip["crop"] + clip["crop"] // 7  # as decode_clips caches: a little above the crop
        if short_side not in caches:
            caches[short_side] = write_cache(folder / f"cache{short_side}.h5", short_side, args.codec)
        videos = caches[short_side]
        classes = sorted(videos["label"].unique())
        trainer = trainer_for(preset, classes)
        phase = trainer.phases[-1]
        net = trainer.build().to(device).train()
        step = trainer.loss_module(net, phase, device)
        optimizer, _ = trainer.optimizer(net, phase)
        dataset = TrainClips(videos, {c: i for i, c in enumerate(classes)}, length=clip["frames"],
                             stride=clip["stride"], crop=clip["crop"], seed=0)
        if args.threads:
            loader = ThreadFeed(dataset, batch_size=args.batch, threads=args.threads,
                                generator=torch.Generator().manual_seed(0), pin_memory=amp)
        else:
            loader = DataLoader(dataset, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                pin_memory=amp, drop_last=True, persistent_workers=args.workers > 0)

        def cached(loader=loader):
            while True:
                yield from loader

        first = next(iter(loader))
        in_memory = {key: x.to(device) for key, x in first.items()}

        def memory_batches(batch=in_memory):
            return iter(lambda: batch, None)

        flops = flops_per_clip(step, optimizer, in_memory, device)
        clips_per_second(step, optimizer, memory_batches(), device, amp, 1)  # warm up both sides
        clips_per_second(step, optimizer, cached(), device, amp, 1)
        rates = np.array([(clips_per_second(step, optimizer, memory_batches(), device, amp, args.steps),
                           clips_per_second(step, optimizer, cached(), device, amp, args.steps))
                          for _ in range(args.rounds)])
        memory, cache = np.median(rates, axis=0)
        ratio = rates[:, 1] / rates[:, 0]
        print(f"{preset:<9}{clip['frames']:>8} x {clip['crop']:<4}{cache:>17.2f}{memory:>18.2f}"
              f"{np.median(ratio):>9.2f} ({ratio.min():.2f}-{ratio.max():.2f}){flops / 1e9:>12.0f}"
              f"{f'{cache * flops / 1e12:.3f}, {memory * flops / 1e12:.3f}':>24}")


if __name__ == "__main__":
    main()
