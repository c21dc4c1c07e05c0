"""The embedded synthetic world: procedurally drawn objects in motion, written as H.264 mp4.

Every class is an (object, motion) pair named by an English phrase ("ball falling"). The
source dataset and the target dataset draw from the same objects and motions, so the target's
unseen classes are new combinations of words and visual parts the model has seen apart: the
compositional transfer zero-shot methods rely on. Nuisances (colour, size, position, speed,
background) are random per video so that no single pixel statistic gives the class away.

A class may instead be a sequence of motions ("ball falling then spinning": `motions: [falling,
spinning]`): the video is cut into as many equal parts, each showing one motion in turn. Such
classes give a model that looks at a video in segments (JigsawNet) something different to find in
each segment.

Everything is a function of the seed: the same seed gives the same videos, byte for byte.
"""

from __future__ import annotations

import colorsys
import csv
import hashlib
import math
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

OBJECTS = ("ball", "box", "ring", "star", "triangle", "wheel")
MOTIONS = ("falling", "spinning", "bouncing", "growing", "shaking", "blinking", "orbiting", "rolling")


def slug(name: str) -> str:
    return "_".join(name.lower().split())


def _video_rng(seed: int, dataset: str, video_id: str) -> np.random.Generator:
    # Seeded per video (not per stream position) so one video never depends on another's draws.
    digest = hashlib.sha256(f"{seed}/{dataset}/{video_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def trajectory(motion: str, n_frames: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-frame centre (x, y as canvas fractions), scale, rotation angle and visibility."""
    t = np.linspace(0.0, 1.0, n_frames)
    x = np.full(n_frames, rng.uniform(0.3, 0.7))
    y = np.full(n_frames, rng.uniform(0.3, 0.7))
    scale = np.ones(n_frames)
    angle = np.full(n_frames, rng.uniform(0, 2 * math.pi))
    visible = np.ones(n_frames, dtype=bool)
    direction = rng.choice([-1.0, 1.0])
    if motion == "falling":
        top = rng.uniform(0.1, 0.25)
        y = top + (rng.uniform(0.8, 0.9) - top) * t**2
    elif motion == "spinning":
        angle = angle + direction * 2 * math.pi * rng.uniform(0.8, 1.5) * t
    elif motion == "bouncing":
        floor, height = rng.uniform(0.75, 0.85), rng.uniform(0.35, 0.5)
        y = floor - height * np.abs(np.sin(math.pi * rng.uniform(1.5, 2.5) * t + rng.uniform(0, 1)))
    elif motion == "growing":
        scale = rng.uniform(0.3, 0.5) + rng.uniform(1.0, 1.4) * t
    elif motion == "shaking":
        x = x + rng.uniform(0.05, 0.08) * np.sin(2 * math.pi * rng.uniform(5, 7) * t)
    elif motion == "blinking":
        period = int(rng.integers(2, 4))
        visible = ((np.arange(n_frames) + int(rng.integers(0, period))) // period) % 2 == 0
    elif motion == "orbiting":
        radius, start = rng.uniform(0.18, 0.26), rng.uniform(0, 2 * math.pi)
        theta = start + direction * 2 * math.pi * rng.uniform(0.7, 1.0) * t
        x, y = 0.5 + radius * np.cos(theta), 0.5 + radius * np.sin(theta)
    elif motion == "rolling":
        start = rng.uniform(0.15, 0.25)
        x = start + rng.uniform(0.5, 0.65) * t
        if direction < 0:
            x = 1.0 - x
        y = np.full(n_frames, rng.uniform(0.65, 0.8))
        angle = angle + (x - x[0]) * rng.uniform(5.0, 7.0)  # rolls without slipping (angle ~ distance / radius)
    else:
        raise ValueError(f"unknown motion '{motion}'; known motions: {', '.join(MOTIONS)}")
    return {"x": x, "y": y, "scale": scale, "angle": angle, "visible": visible}


def motion_path(motions, n_frames: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The trajectory of one motion (a name) or of a sequence of motions (a list), one after the other
    in equal parts of the video (the first parts one frame longer when n_frames does not divide)."""
    if isinstance(motions, str):
        return trajectory(motions, n_frames, rng)
    lengths = [len(part) for part in np.array_split(np.arange(n_frames), len(motions))]
    parts = [trajectory(motion, length, rng) for motion, length in zip(motions, lengths)]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def class_motions(cls: dict):
    """A rendered class's motion, or its sequence of motions."""
    return cls["motions"] if "motions" in cls else cls["motion"]


def _polygon(cx, cy, radius, angle, n, inner=None):
    """Vertices of a regular n-gon (or an n-pointed star when `inner` is the inner radius ratio)."""
    points = []
    steps = 2 * n if inner else n
    for k in range(steps):
        r = radius * (inner if inner and k % 2 else 1.0)
        a = angle + 2 * math.pi * k / steps
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return points


def draw_object(draw: ImageDraw.ImageDraw, obj: str, cx, cy, radius, angle, colour, mark) -> None:
    """Draw one object; a contrasting mark off-centre makes its rotation visible."""
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    rim = max(2, int(radius * 0.3))
    mark_at = 0.55
    if obj == "ball":
        draw.ellipse(box, fill=colour)
    elif obj == "box":
        draw.polygon(_polygon(cx, cy, radius * 1.2, angle + math.pi / 4, 4), fill=colour)
    elif obj == "ring":
        draw.ellipse(box, outline=colour, width=rim)
        mark_at = 1.0 - 0.15
    elif obj == "star":
        draw.polygon(_polygon(cx, cy, radius * 1.3, angle, 5, inner=0.45), fill=colour)
        mark_at = 0.3
    elif obj == "triangle":
        draw.polygon(_polygon(cx, cy, radius * 1.3, angle, 3), fill=colour)
        mark_at = 0.35
    elif obj == "wheel":
        draw.ellipse(box, outline=colour, width=max(1, rim // 2))
        for k in range(4):
            a = angle + k * math.pi / 2
            draw.line((cx, cy, cx + radius * math.cos(a), cy + radius * math.sin(a)), fill=colour, width=max(1, rim // 2))
        mark_at = 1.0 - 0.1
    else:
        raise ValueError(f"unknown object '{obj}'; known objects: {', '.join(OBJECTS)}")
    mr = max(1.5, radius * 0.22)
    mx, my = cx + mark_at * radius * math.cos(angle), cy + mark_at * radius * math.sin(angle)
    draw.ellipse((mx - mr, my - mr, mx + mr, my + mr), fill=mark)


def _random_colour(rng, value_range):
    rgb = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0.5, 1.0), rng.uniform(*value_range))
    return tuple(int(255 * c) for c in rgb)


def render_frames(obj: str, motion, n_frames: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """(n_frames, size, size, 3) uint8 frames of one video; `motion` a name or a list of them."""
    background = np.array(_random_colour(rng, (0.1, 0.35)), dtype=np.int16)
    texture = rng.integers(-12, 13, size=(size, size, 1), dtype=np.int16)
    canvas = np.clip(background + texture, 0, 255).astype(np.uint8)
    colour = _random_colour(rng, (0.75, 1.0))
    mark = tuple(255 - c // 2 for c in colour[::-1])
    radius = size * rng.uniform(0.1, 0.15)
    path = motion_path(motion, n_frames, rng)
    frames = np.empty((n_frames, size, size, 3), dtype=np.uint8)
    for f in range(n_frames):
        image = Image.fromarray(canvas)
        if path["visible"][f]:
            draw_object(
                ImageDraw.Draw(image), obj, path["x"][f] * size, path["y"][f] * size,
                radius * path["scale"][f], path["angle"][f], colour, mark,
            )
        frames[f] = np.asarray(image)
    return frames


def write_mp4(path: Path, frames: np.ndarray, fps: int) -> None:
    """H.264 (yuv420p) mp4 with a single-threaded encoder, so output bytes depend only on input."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        # Byte-identical output for identical frames needs one thread and no macroblock-tree
        # rate control: with mbtree on, repeated encodes of the same frames in one process
        # gave up to three different files (x264 via PyAV 18).
        stream.codec_context.thread_count = 1
        stream.options = {"crf": "20", "preset": "veryfast", "x264-params": "mbtree=0"}
        for array in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def render_dataset(manifest: dict, out_root: Path, videos_per_class: dict[str, int], *,
                   seed: int, frames: int, size: int, fps: int) -> Path:
    """Render every class of a `rendered` manifest; return the annotations CSV it wrote.

    Layout under out_root: videos/<class slug>/<video id>.mp4 and annotations.csv
    (video_id, path relative to out_root, label, split).
    """
    if size % 2:
        raise ValueError(f"synthetic frame size must be even for yuv420p H.264, got {size}")
    out_root = Path(out_root)
    rows = []
    for cls in manifest["classes"]:
        folder = out_root / "videos" / slug(cls["name"])
        folder.mkdir(parents=True, exist_ok=True)
        for split, count in videos_per_class.items():
            for k in range(count):
                video_id = f"{slug(cls['name'])}_{split}_{k:03d}"
                rng = _video_rng(seed, manifest["id"], video_id)
                path = folder / f"{video_id}.mp4"
                write_mp4(path, render_frames(cls["object"], class_motions(cls), frames, size, rng), fps)
                rows.append((video_id, str(path.relative_to(out_root)), cls["name"], split))
    annotations = out_root / "annotations.csv"
    with open(annotations, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video_id", "path", "label", "split"])
        writer.writerows(rows)
    return annotations
