"""A stand-in for CLIP's web pretraining on the embedded world: an open_clip model (zsar-small)
trained from scratch on rendered single frames and captions of what each frame shows.

No real CLIP can be downloaded here, so the demo's zero-shot CLIP, ViFi-CLIP and MAXI start from
this one. Its frames are single frames of the world's videos as the renderer draws them
(zsar.data.synthetic: an object in one of its motions, at a random moment); its captions say the
colour, the object, its size and where it lies ("a big red star lying on the floor"), and half of
them the motion too ("a red ball falling near the top"), except for the (object, motion) pairs of
the excluded datasets (the targets'): the target classes are never named. What it knows of a
motion is what a still shows of it, as a web-pretrained CLIP knows objects and scenes better than
actions.
"""

from __future__ import annotations

import colorsys
import math
import time

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.nn import functional as F

from zsar.data.synthetic import MOTIONS, OBJECTS, draw_object, trajectory
from zsar.models.clip import VideoCLIP, create, tokenize

HUES = ((0.04, "red"), (0.11, "orange"), (0.19, "yellow"), (0.45, "green"), (0.55, "cyan"), (0.72, "blue"),
        (0.86, "purple"), (0.96, "pink"), (1.01, "red"))


def _colour(rng, value_range) -> tuple[tuple[int, int, int], str]:
    hue = rng.uniform(0, 1)
    rgb = colorsys.hsv_to_rgb(hue, rng.uniform(0.5, 1.0), rng.uniform(*value_range))
    return tuple(int(255 * c) for c in rgb), next(name for edge, name in HUES if hue < edge)


def _where(x: float, y: float, rng) -> str:
    if y > 0.68:
        return str(rng.choice(["lying on the floor", "resting on the ground", "near the floor"]))
    if y < 0.32:
        return str(rng.choice(["high above the floor", "hanging in the air", "near the top"]))
    return "on the left" if x < 0.33 else "on the right" if x > 0.67 else "in the middle"


def frame_and_caption(size: int, rng: np.random.Generator, named: set) -> tuple[np.ndarray, str]:
    """One rendered frame (size, size, 3) uint8 and its caption: a frame of a video of the world (an
    object in one of its motions, at a random moment), captioned by what it shows; half the captions
    also name the motion, where (object, motion) is in `named` (no class of the excluded datasets)."""
    background, _ = _colour(rng, (0.1, 0.35))
    texture = rng.integers(-12, 13, size=(size, size, 1), dtype=np.int16)
    image = Image.fromarray(np.clip(np.array(background, np.int16) + texture, 0, 255).astype(np.uint8))
    obj, motion = OBJECTS[rng.integers(len(OBJECTS))], MOTIONS[rng.integers(len(MOTIONS))]
    path = trajectory(motion, 24, rng)
    t = rng.integers(24)
    if not path["visible"][t]:
        return np.asarray(image), "an empty dark picture"
    colour, colour_name = _colour(rng, (0.75, 1.0))
    mark = tuple(255 - c // 2 for c in colour[::-1])
    radius = rng.uniform(0.1, 0.15) * path["scale"][t]  # of the frame, as the renderer draws it
    x, y = path["x"][t], path["y"][t]
    draw_object(ImageDraw.Draw(image), obj, x * size, y * size, radius * size, path["angle"][t], colour, mark)
    size_word = "small " if radius < 0.08 else "big " if radius > 0.18 else ""
    action = f" {motion}" if (obj, motion) in named and rng.random() < 0.5 else ""
    return np.asarray(image), f"a {size_word}{colour_name} {obj}{action} {_where(x, y, rng)}"


def pretraining_pairs(n: int, size: int, seed: int, excluded: set = frozenset()) -> tuple[np.ndarray, list[str]]:
    """`n` frames and captions; no caption names an (object, motion) pair of `excluded`."""
    rng = np.random.default_rng(seed)
    named = {(o, m) for o in OBJECTS for m in MOTIONS} - set(excluded)
    pairs = [frame_and_caption(size, rng, named) for _ in range(n)]
    return np.stack([frame for frame, _ in pairs]), [caption for _, caption in pairs]


def pretrain(arch: str, frames: np.ndarray, captions: list[str], *, epochs: int, batch_size: int, lr: float,
             seed: int, log=print) -> dict:
    """open_clip's `arch` trained from scratch with CLIP's loss (the symmetric cross-entropy of the
    batch's image-caption cosines at the learnt logit scale), AdamW with a cosine schedule; its
    state_dict, as open_clip's own model.state_dict() writes it."""
    torch.manual_seed(seed)
    model = create(arch).train()
    video = VideoCLIP(model.visual, model.text_projection.shape[1])  # the frames as zsar's videos see them
    tokens = tokenize(arch, captions)
    pixels = torch.from_numpy(frames).permute(0, 3, 1, 2)  # (N, 3, H, W) uint8
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1)
    steps = epochs * math.ceil(len(captions) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.1)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(1, epochs + 1):
        started, total, right, seen = time.perf_counter(), 0.0, 0, 0
        for batch in torch.randperm(len(captions), generator=generator).split(batch_size):
            clips = (pixels[batch].float() / 127.5 - 1).unsqueeze(2)  # (B, 3, 1, H, W) in [-1, 1]
            images = video(clips)
            texts = F.normalize(model.encode_text(tokens[batch]), dim=-1)
            logits = model.logit_scale.exp().clamp(max=100) * images @ texts.T
            same = (tokens[batch][:, None] == tokens[batch][None]).all(dim=-1).float()  # duplicate captions
            target = same / same.sum(dim=1, keepdim=True)
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
            right += int(same[torch.arange(len(batch)), logits.argmax(dim=1)].sum())
            seen += len(batch)
        log(f"epoch {epoch}: loss {total / seen:.4f}, caption top-1 in batch {right / seen:.3f}, "
            f"{time.perf_counter() - started:.1f} s")
    return model.state_dict()
