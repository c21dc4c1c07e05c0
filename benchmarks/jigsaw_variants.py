"""Benchmark (issue 15): what JigsawNet's options cost in training clips per second, and GPU hours.

Variants, all at one preset (default: the paper's size on R(2+1)D-18, d = 768, h = 8, m = 4 segments,
16 frames at 112) and at Kinetics-ZSAR's scale on the text side (400 training classes, 1,430 phrases,
1,010 of them distinct, as Kinetics-400's descriptions give; 16 tokens each):

  base     frozen text encoder (precomputed phrase embeddings), no objects
  objects  the object branch (one more GE token, two more cross-entropies)
  text2    the text encoder's top 2 layers trained (MiniLM's size: 384 wide, 12 heads, 1,536 inner),
           run over the 1,010 distinct phrases at every step
  both     objects and text2

A step is `zsar.models.training.train_step` on one batch already on the device (the model's cost, not the
loader's: benchmarks/train_throughput.py measures that): flip and normalise, forward the real loss
(group alignment, consistency loss), backward, optimizer step, in float16 autocast on a GPU. The
weights and phrase states are random (speed does not depend on their values).

Sides are interleaved: after an untimed warm-up of each, --rounds rounds of every variant in turn
(--steps timed steps each); each variant's figure is its median over rounds, and its cost is the
median of the rounds' paired ratios against base, with min-max. Before timing, each variant's loss
must be finite, and on a GPU its autocast embedding must match float32 (cosine printed).

    python benchmarks/jigsaw_variants.py [--preset r2plus1d18|tiny] [--batch 16] [--steps 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from zsar.methods import resolve
from zsar.methods.jigsaw.model import Training
from zsar.models.training import DeviceStep, train_step

N_CLASSES, N_PHRASES, N_DISTINCT, TOKENS, TEXT_DIM = 400, 1430, 1010, 16, 384
# Kinetics-400's training videos and the paper's Kinetics-ZSAR epochs, for the GPU-hours estimate.
K400_TRAIN, EPOCHS = 240_000, 20
VARIANTS = {"base": {}, "objects": {"objects": True}, "text2": {"text_layers": 2},
            "both": {"objects": True, "text_layers": 2}}


def phrases(rng, text_layers: int) -> dict:
    """The semantic side as train_model gives it, at Kinetics-ZSAR's scale, random."""
    distinct = rng.integers(N_DISTINCT, size=N_PHRASES)
    distinct[:N_DISTINCT] = np.arange(N_DISTINCT)
    out = {"class": [f"c{k % N_CLASSES}" for k in range(N_PHRASES)], "phrase": [f"p{d}" for d in distinct],
           "atomic_id": distinct, "embeddings": rng.normal(size=(N_PHRASES, TEXT_DIM)).astype(np.float32)}
    if text_layers:
        hidden, inner = TEXT_DIM, 4 * TEXT_DIM
        shapes = {"attention.self.query": (hidden, hidden), "attention.self.key": (hidden, hidden),
                  "attention.self.value": (hidden, hidden), "attention.output.dense": (hidden, hidden),
                  "intermediate.dense": (inner, hidden), "output.dense": (hidden, inner)}
        weights = {}
        for k in range(text_layers):
            for name, shape in shapes.items():
                weights[f"{k}.{name}.weight"] = (rng.normal(size=shape) / np.sqrt(shape[1])).astype(np.float32)
                weights[f"{k}.{name}.bias"] = np.zeros(shape[0], np.float32)
            for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
                weights[f"{k}.{norm}.weight"] = np.ones(hidden, np.float32)
                weights[f"{k}.{norm}.bias"] = np.zeros(hidden, np.float32)
        lengths = rng.integers(3, TOKENS + 1, size=N_PHRASES)
        out.update(states=rng.normal(size=(N_PHRASES, TOKENS, hidden)).astype(np.float32),
                   mask=np.arange(TOKENS)[None, :] < lengths[:, None],
                   text_top={"layers": text_layers, "heads": 12, "eps": 1e-12}, text_weights=weights)
    return out


def batch_of(rng, size: int, frames: int, crop: int, objects: bool, device) -> dict:
    """A batch as TrainClips and the loader give it, with the object branch's inputs when asked."""
    clips = torch.from_numpy(rng.integers(0, 256, size=(size, frames, crop, crop, 3), dtype=np.uint8))
    batch = {"clips": clips, "flip": torch.zeros(size, dtype=torch.bool),
             "label": torch.from_numpy(rng.integers(N_CLASSES, size=size))}
    if objects:
        batch.update(objects=torch.from_numpy(rng.normal(size=(size, TEXT_DIM)).astype(np.float32)),
                     present=torch.from_numpy(rng.random(size) < 0.9))
    return {key: x.to(device) for key, x in batch.items()}


def clips_per_second(step, optimizer, scaler, batch, device, how, steps: int) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        train_step(step, optimizer, scaler, batch, device, how)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * len(batch["label"]) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="r2plus1d18", choices=["r2plus1d18", "tiny"])
    parser.add_argument("--batch", type=int, default=16, help="clips per step (the paper: 16)")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--crop", type=int, default=112)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over the variants")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    amp = device.type == "cuda"
    how = DeviceStep.of(device, {})  # as training runs: bf16 (or fp16) autocast on a GPU
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    classes = [f"c{k}" for k in range(N_CLASSES)]
    print(f"device: {torch.cuda.get_device_name() if amp else f'CPU, {torch.get_num_threads()} threads'}; "
          f"preset {args.preset}, batch {args.batch} x {args.frames} x {args.crop}, {N_CLASSES} classes, "
          f"{N_PHRASES} phrases; {args.steps} timed steps x {args.rounds} interleaved rounds")
    setups = {}
    for name in args.variants:
        model_cfg, train_cfg = resolve("jigsaw", {"preset": args.preset, **VARIANTS[name]}, {"optimizer": "sgd"})
        trainer = Training(classes, {"class_phrases": phrases(rng, model_cfg["text_layers"])}, model_cfg, train_cfg)
        net = trainer.build().to(device).train()
        step = trainer.loss_module(net, trainer.phases[0], device)
        optimizer, _ = trainer.optimizer(net, trainer.phases[0])
        scaler = how.scaler()
        net = how.prepare(net)
        batch = batch_of(rng, args.batch, args.frames, args.crop, model_cfg["objects"], device)
        loss, _ = train_step(step, optimizer, scaler, batch, device, how)  # warm-up, untimed
        check = f"loss {loss.item():.3f}"
        assert torch.isfinite(loss), f"{name}: the loss is not finite"
        if amp:
            net.eval()
            with torch.no_grad():
                from zsar.data.sampling import to_model_input

                x = to_model_input(batch["clips"][:4], batch["flip"][:4])
                side = {key: v[:4] for key, v in batch.items() if key not in ("clips", "flip", "label")}
                full = net.embed(x, **side).float()
                with torch.autocast("cuda", dtype=torch.float16):
                    half = net.embed(x, **side).float()
                cosine = torch.nn.functional.cosine_similarity(full, half, dim=1).min().item()
            net.train()
            check += f", float16 vs float32 embedding cosine >= {cosine:.4f}"
        params = sum(p.numel() for p in net.parameters())
        print(f"  {name:<8} {params / 1e6:6.1f} M parameters; {check}")
        setups[name] = (step, optimizer, scaler, batch)

    rates = np.array([[clips_per_second(*setups[name][:3], setups[name][3], device, how, args.steps)
                       for name in args.variants] for _ in range(args.rounds)])
    print(f"{'variant':<9}{'clips/s':>9}{'vs base (min-max)':>22}{'hours, K400 x 20 epochs':>26}")
    base = rates[:, args.variants.index("base")] if "base" in args.variants else None
    for k, name in enumerate(args.variants):
        rate = np.median(rates[:, k])
        ratio = "" if base is None else \
            f"{np.median(rates[:, k] / base):.2f} ({(rates[:, k] / base).min():.2f}-{(rates[:, k] / base).max():.2f})"
        print(f"{name:<9}{rate:>9.1f}{ratio:>22}{K400_TRAIN * EPOCHS / rate / 3600:>26.1f}")


if __name__ == "__main__":
    main()
