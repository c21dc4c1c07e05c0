"""Clip samplers and spatial transforms, in plain numpy/torch.

Training takes one random clip of `length` frames at `stride` per video; testing takes
`n_clips` clips spaced uniformly over the video. A video shorter than a clip is looped.
"""

from __future__ import annotations

import numpy as np

def resolve_sampling(settings: dict, default: str, presets: dict) -> dict:
    """A run's sampling: its preset's values (of `presets`, the methods' papers' presets by name;
    `default` when the run names none), overridden by any key the run sets itself. The presets are
    passed in: the data stages that import this module do not depend on the methods."""
    preset = settings.get("preset", default)
    if preset not in presets:
        raise ValueError(f"unknown sampling preset {preset!r}; use one of {', '.join(presets)}")
    return {**presets[preset], **{k: v for k, v in settings.items() if k != "preset"}}


def clip_span(length: int, stride: int) -> int:
    return (length - 1) * stride + 1


def clip_indices(start: int, length: int, stride: int, n_frames: int) -> np.ndarray:
    """Frame indices of one clip; wraps around for videos shorter than the clip."""
    return (start + stride * np.arange(length)) % n_frames


def uniform_clip_starts(n_frames: int, length: int, stride: int, n_clips: int) -> np.ndarray:
    """Start frames of `n_clips` clips spread uniformly from the first to the last possible start."""
    last = max(n_frames - clip_span(length, stride), 0)
    return np.round(np.linspace(0, last, n_clips)).astype(int)


def random_clip_start(n_frames: int, length: int, stride: int, rng: np.random.Generator) -> int:
    last = max(n_frames - clip_span(length, stride), 0)
    return int(rng.integers(0, last + 1))


def resized_shape(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(height, width) with the short side scaled to `short_side`, aspect ratio kept."""
    scale = short_side / min(height, width)
    return max(short_side, round(height * scale)), max(short_side, round(width * scale))


def to_model_input(clips_uint8, flip=None) -> "torch.Tensor":  # noqa: F821
    """(..., T, H, W, 3) uint8 (numpy or torch) -> (..., 3, T, H, W) float in [-1, 1], on the input's device.

    `flip` (a bool per clip of a batch (B, T, H, W, 3), or one bool) flips those clips left-right.
    Run it after moving the uint8 batch to the model's device: there it is one batched operation
    on a quarter of the bytes a float clip would have.
    """
    import torch  # here, so that the clip cache and the DAG's helpers load without torch

    if isinstance(clips_uint8, np.ndarray):
        clips_uint8 = torch.from_numpy(np.ascontiguousarray(clips_uint8))
    if flip is not None:
        flip = torch.as_tensor(flip, dtype=torch.bool, device=clips_uint8.device)
        if flip.dim() == 0:
            clips_uint8 = clips_uint8.flip(-2) if flip else clips_uint8
        else:
            flip = flip.view(-1, *[1] * (clips_uint8.dim() - 1))
            clips_uint8 = torch.where(flip, clips_uint8.flip(-2), clips_uint8)
    x = clips_uint8.float().div_(127.5).sub_(1.0)
    # Contiguous in (..., 3, T, H, W): the layout the convolutions are written for (and the one
    # the previous, per-clip conversion gave, so the same frames train the same weights).
    return x.movedim(-1, -4).contiguous()


def random_crop_box(height: int, width: int, size: int, rng: np.random.Generator) -> tuple[int, int, bool]:
    """(top, left, flip) of a random size x size crop, flipped left-right with probability 1/2."""
    top, left = int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))
    return top, left, bool(rng.random() < 0.5)


def center_crop(clip: np.ndarray, size: int) -> np.ndarray:
    """(..., H, W, C) -> (..., size, size, C) from the centre."""
    h, w = clip.shape[-3:-1]
    top, left = (h - size) // 2, (w - size) // 2
    return clip[..., top:top + size, left:left + size, :]


def resize_frames(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of (T, H, W, 3) uint8 frames."""
    if frames.shape[1:3] == (height, width):
        return frames
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return x.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
