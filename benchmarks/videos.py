"""Test videos for the benchmarks: 10 s of 320x240 at 25 fps, a panning texture with moving shapes."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw


def frames(seconds: float = 10.0, fps: int = 25, width: int = 320, height: int = 240, seed: int = 0):
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, size=(height // 8, (width + 400) // 8, 3), dtype=np.uint8)
    texture = np.asarray(Image.fromarray(texture).resize(((width + 400), height), Image.BILINEAR))
    for k in range(int(seconds * fps)):
        shift = (2 * k) % 400
        image = Image.fromarray(np.ascontiguousarray(texture[:, shift:shift + width]))
        draw = ImageDraw.Draw(image)
        for j in range(3):
            x = (40 + 3 * k * (j + 1)) % width
            y = height / 2 + 60 * np.sin(k / (10 + j))
            draw.ellipse((x - 20, y - 20, x + 20, y + 20), fill=(255 - 60 * j, 40 * j, 120))
        yield np.asarray(image)


def write(path: Path, codec: str, fps: int = 25) -> Path:
    """codec 'h264' -> H.264 mp4 (libx264, CRF 23); 'mpeg4' -> MPEG-4 Part 2 AVI (as UCF101 and HMDB51)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264" if codec == "h264" else "mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        if codec == "h264":
            stream.options = {"crf": "23"}
        else:
            stream.codec_context.bit_rate = 1_000_000
        for array in frames(fps=fps):
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
