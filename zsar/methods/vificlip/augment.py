"""The visual augmentations of the CLIP family's fine-tuning (ViFi-CLIP, MAXI), on the device.

MAXI's supplement fine-tunes with "multi scale crop, random flipping, color jittering and gray
scaling" as ViFi-CLIP and X-CLIP do, without their strengths; zsar's defaults (FINE_TUNING's
`augment`) are its own choice. The loader has already cut a random crop and flipped half the clips;
here each clip, every frame alike, is cut again at one of `scales` of its side and resized back,
jittered with probability `jitter` and turned grey with probability `grey`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class VideoAugment(nn.Module):
    """(B, 3, T, H, W) clips in [-1, 1] -> the same, augmented clip by clip (torch's random state)."""

    def __init__(self, scales=(1.0,), jitter: float = 0.0, grey: float = 0.0, strength: float = 0.4, hue: float = 0.1):
        super().__init__()
        self.scales, self.jitter, self.grey, self.strength, self.hue = list(scales), jitter, grey, strength, hue

    def _uniform(self, low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand(()))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        from torchvision.transforms.v2 import functional as TF

        if not self.training:
            return clips
        _, _, _, height, width = clips.shape
        out = []
        for clip in clips.transpose(1, 2):  # (T, 3, H, W): one draw for all its frames
            clip = (clip.float() + 1) / 2
            scale = self.scales[int(torch.randint(len(self.scales), ()))]
            if scale < 1:
                h, w = max(1, round(height * scale)), max(1, round(width * scale))
                top, left = int(torch.randint(height - h + 1, ())), int(torch.randint(width - w + 1, ()))
                clip = F.interpolate(clip[..., top:top + h, left:left + w], size=(height, width), mode="bilinear",
                                     align_corners=False, antialias=True)
            if float(torch.rand(())) < self.jitter:
                low, high = 1 - self.strength, 1 + self.strength
                clip = TF.adjust_brightness(clip, self._uniform(low, high))
                clip = TF.adjust_contrast(clip, self._uniform(low, high))
                clip = TF.adjust_saturation(clip, self._uniform(low, high))
                clip = TF.adjust_hue(clip, self._uniform(-self.hue, self.hue))
            if float(torch.rand(())) < self.grey:
                clip = TF.rgb_to_grayscale(clip, num_output_channels=3)
            out.append(clip.clamp(0, 1) * 2 - 1)
        return torch.stack(out).transpose(1, 2).to(clips.dtype)


def augmentation(settings: dict | None) -> nn.Module:
    """train.augment ({scales, jitter, grey}; null: none) as a module; identity when it does nothing."""
    if not settings:
        return nn.Identity()
    return VideoAugment(settings.get("scales", [1.0]), settings.get("jitter", 0.0), settings.get("grey", 0.0))
