"""Video backbones in plain torch: R(2+1)D and C3D, shared by the methods (zsar/methods/).

R(2+1)D (Tran et al., CVPR 2018) factorises each 3x3x3 convolution into a 1x3x3 spatial and a
3x1x1 temporal convolution, with the middle width chosen so the parameter count matches the 3D
convolution it replaces. `create_r2plus1d(widths=(64, 128, 256, 512), layers=(2, 2, 2, 2))` is
R(2+1)D-18, the backbone of E2E and JigsawNet; smaller widths give the tiny presets used on the
synthetic world.

C3D (Tran et al., ICCV 2015) stacks 3x3x3 convolutions in five stages (64, 128, 256, 512, 512 wide;
1, 1, 2, 2, 2 convolutions) with max pooling after each (the first spatial only), then fc6 and fc7
of 4096: E2E's other backbone (Tables 1-2), trained from scratch there. C3D flattens pool5 of a
112x112 clip into fc6; here pool5 is averaged over space and time instead, so any crop size works
(the tiny presets crop 56), at the same fc6 width. A batch normalisation follows each convolution:
without it, C3D trained from scratch with E2E's Adam recipe collapsed on the synthetic world to one
constant output (validation top-1 at chance for 10 epochs; `batch_norm: false` is the 2015 network).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _mid_width(in_ch: int, out_ch: int, spatial: int = 3, temporal: int = 3) -> int:
    return (temporal * spatial * spatial * in_ch * out_ch) // (spatial * spatial * in_ch + temporal * out_ch)


def conv2plus1d(in_ch: int, out_ch: int, stride: int = 1) -> nn.Sequential:
    mid = _mid_width(in_ch, out_ch)
    return nn.Sequential(
        nn.Conv3d(in_ch, mid, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False),
        nn.BatchNorm3d(mid),
        nn.ReLU(inplace=True),
        nn.Conv3d(mid, out_ch, (3, 1, 1), stride=(stride, 1, 1), padding=(1, 0, 0), bias=False),
    )


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Sequential(conv2plus1d(in_ch, out_ch, stride), nn.BatchNorm3d(out_ch), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(conv2plus1d(out_ch, out_ch), nn.BatchNorm3d(out_ch))
        self.shortcut = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv3d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm3d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


class R2Plus1D(nn.Module):
    """(B, 3, T, H, W) -> (B, widths[-1]) pooled features."""

    def __init__(self, widths=(64, 128, 256, 512), layers=(2, 2, 2, 2)):
        super().__init__()
        if len(widths) != len(layers):
            raise ValueError(f"widths {widths} and layers {layers} must have the same length")
        stem_mid = _mid_width(3, widths[0], spatial=7)
        self.stem = nn.Sequential(
            nn.Conv3d(3, stem_mid, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(stem_mid),
            nn.ReLU(inplace=True),
            nn.Conv3d(stem_mid, widths[0], (3, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(widths[0]),
            nn.ReLU(inplace=True),
        )
        blocks, in_ch = [], widths[0]
        for stage, (width, depth) in enumerate(zip(widths, layers)):
            for b in range(depth):
                blocks.append(BasicBlock(in_ch, width, stride=2 if stage > 0 and b == 0 else 1))
                in_ch = width
        self.blocks = nn.Sequential(*blocks)
        self.out_dim = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x)).mean(dim=(2, 3, 4))

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, T', widths[-1]): pooled over space only; each stage after the first
        halves time, so T' = ceil(T / 2^(stages - 1))."""
        return self.blocks(self.stem(x)).mean(dim=(3, 4)).transpose(1, 2)


def create_r2plus1d(widths=(64, 128, 256, 512), layers=(2, 2, 2, 2)) -> R2Plus1D:
    return R2Plus1D(tuple(widths), tuple(layers))


class C3D(nn.Module):
    """(B, 3, T, H, W) -> (B, fc) features after fc7."""

    def __init__(self, widths=(64, 128, 256, 512, 512), layers=(1, 1, 2, 2, 2), fc: int = 4096, dropout: float = 0.5,
                 batch_norm: bool = True):
        super().__init__()
        if len(widths) != len(layers):
            raise ValueError(f"widths {widths} and layers {layers} must have the same length")
        stages, in_ch = [], 3
        for stage, (width, depth) in enumerate(zip(widths, layers)):
            for _ in range(depth):
                stages += [nn.Conv3d(in_ch, width, 3, padding=1, bias=not batch_norm),
                           *([nn.BatchNorm3d(width)] if batch_norm else []), nn.ReLU(inplace=True)]
                in_ch = width
            # pool1 keeps time (C3D: 1x2x2); the others halve time too, where there is time left
            stages.append(nn.MaxPool3d((1, 2, 2) if stage == 0 else 2, ceil_mode=True))
        self.features = nn.Sequential(*stages)
        self.fc = nn.Sequential(nn.Linear(in_ch, fc), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                nn.Linear(fc, fc), nn.ReLU(inplace=True))
        self.out_dim = fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean(dim=(2, 3, 4)))


def create_c3d(widths=(64, 128, 256, 512, 512), layers=(1, 1, 2, 2, 2), fc: int = 4096,
               batch_norm: bool = True) -> C3D:
    return C3D(tuple(widths), tuple(layers), fc, batch_norm=batch_norm)
