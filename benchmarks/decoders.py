"""Benchmark: the three video decoder backends (decord, PyAV, torchcodec; zsar/data/video.py), for speed
and for fidelity, on Kinetics-like videos in the three containers and codecs that datasets ship.

    .venv/bin/python benchmarks/decoders.py --out DIR [--videos 2] [--rounds 7]

Test videos: the ffmpeg binary that imageio-ffmpeg ships renders `--videos` Mandelbrot images (one
region at zooms 0.3, 0.15, 0.1, ...: fine detail beside smooth gradients) and films each with a slow
zoom and sway (zoompan) plus temporal grain (noise, seeded): 10 s at 30 fps, at 640x360 and at 340x256
(Kinetics redistributed at short side 256), each encoded as H.264 in .mp4 (libx264 CRF 23, yuv420p),
VP9 in .webm (libvpx-vp9, 1 Mbit/s) and MPEG-4 Part 2 in .avi (mpeg4, q 5). The same arguments give
the same files, byte for byte.

Speed: `video.decode(path, backend, h, w)` to the cache's size (short side 128, as
sampling.resized_shape gives it) and `video.probe(path, backend)` (what indexing a video costs), in one
process with torch at one thread. After one untimed warm-up pass, `--rounds` rounds; each round runs the
backends in turn, the order rotating from round to round, and each backend reads every video of each
format and size. Columns: the median over rounds of wall seconds per video; frames decoded per second
at that median; the median over rounds of the paired (same round) ratio backend / decord with its
min-max; the same for this process's CPU seconds (all its threads; the figure to quote when the machine
is shared, as a loaded machine stretches wall time but hardly CPU time, and the one that counts where
decode_clips runs one shard per core); CPU / wall (above 1: the backend decodes on more than one
thread; below 1: the process waited for a core); the median probe seconds per video.

Fidelity: the reference is the ffmpeg command line's native-size RGB (`-f rawvideo -pix_fmt rgb24`,
every frame as decoded). Each backend's native RGB frames (all of video.OPEN[backend](path).chunks()) are
compared with it: bit-exact or not, and the worst frame's PSNR (RGB, 0-255); and its frame count (the index's
and the decoded one) with the reference's. The cache-size frames of the warm-up pass are compared
with decord's the same way.

Isolation: what the child process costs (zsar.data.decode.decode_shard decodes each video in one,
video.Isolated): the 640x360 H.264 videos (copied to 6) decoded into a cache shard by decode_shard,
against the same decoding and writing in this process, by the default backend; CPU seconds of this
process and its children, `--rounds` interleaved rounds (the order alternating), the median of the
paired ratios with its min-max. `--only isolation` measures this alone.

Writes DIR/decoders.csv (one row per format, size and backend) and DIR/decoders.md (the table, the
command, the machine and the library versions), and prints the markdown.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import torch

from zsar.data import sampling, video

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SIZES = [(640, 360), (340, 256)]  # width, height
FORMATS = {"H.264 mp4": (".mp4", ["-c:v", "libx264", "-crf", "23", "-pix_fmt", "yuv420p"]),
           "VP9 webm": (".webm", ["-c:v", "libvpx-vp9", "-b:v", "1M", "-pix_fmt", "yuv420p",
                                  "-deadline", "good", "-cpu-used", "4", "-row-mt", "1"]),
           "MPEG-4 avi": (".avi", ["-c:v", "mpeg4", "-q:v", "5", "-pix_fmt", "yuv420p"])}
CACHE_SHORT_SIDE = 128
SECONDS, FPS = 10, 30


def ffmpeg(*args) -> bytes:
    return subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *map(str, args)],
                          check=True, capture_output=True).stdout


def make_videos(folder: Path, n: int) -> dict[tuple[str, str], list[Path]]:
    """{(format, "WxH"): paths}: n scenes, each in every size and format."""
    groups = {}
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        image = folder / f"scene{k}.png"
        ffmpeg("-f", "lavfi", "-i", f"mandelbrot=s=1280x720:rate=1:start_scale={0.3 / (k + 1)}", "-frames:v", 1, image)
        for width, height in SIZES:
            motion = (f"zoompan=z='1.2+0.003*on':x='iw/2-iw/zoom/2+{40 + 10 * k}*sin(on/{30 + 7 * k})'"
                      f":y='ih/2-ih/zoom/2+20*cos(on/50)':d={SECONDS * FPS}:s={width}x{height}:fps={FPS},"
                      f"noise=alls=12:allf=t+u:all_seed={k}")
            for name, (ext, codec) in FORMATS.items():
                path = folder / f"{ext[1:]}-{width}x{height}-{k}{ext}"
                ffmpeg("-i", image, "-vf", motion, "-frames:v", SECONDS * FPS, *codec, "-threads", 2,
                       "-fflags", "+bitexact", path)  # bitexact: no random IDs, no dates in the file
                groups.setdefault((name, f"{width}x{height}"), []).append(path)
    return groups


def dims(size: str) -> tuple[int, int]:
    """"WxH" -> (height, width)."""
    width, height = map(int, size.split("x"))
    return height, width


def compare(a: np.ndarray, b: np.ndarray) -> tuple[bool, float]:
    """(bit-exact, worst frame's PSNR in dB) of frames a against b, over the frames both have."""
    n, worst = min(len(a), len(b)), 0.0
    for start in range(0, n, 32):  # in slices: a native 10 s video is 200 MB of uint8
        diff = a[start:start + 32].astype(np.int16) - b[start:start + 32]
        worst = max(worst, float((diff.astype(np.float32) ** 2).mean(axis=(1, 2, 3)).max()))
    psnr = 10 * np.log10(255.0 ** 2 / worst) if worst > 0 else float("inf")
    return len(a) == len(b) and worst == 0, psnr


def fidelity(path: Path, backend: str, reference: np.ndarray) -> dict:
    reader = video.OPEN[backend](path)
    frames = np.concatenate(list(reader.chunks()))
    equal, psnr = compare(frames, reference)
    return {"equal": equal, "psnr": psnr, "counts": (reader.count(), len(frames), len(reference))}


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def versions() -> str:
    import av
    import decord
    import torchcodec
    from torchcodec._core import get_ffmpeg_library_versions

    bundled = sorted(p.name.split(".so.")[1] for p in (Path(decord.__file__).parent.parent / "decord.libs")
                     .glob("libavcodec-*.so.*"))
    cli = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.split()[2]
    return (f"decord {decord.__version__} (its wheel's libavcodec {', '.join(bundled) or '?'}); "
            f"av {av.__version__} (libavcodec {'.'.join(map(str, av.library_versions['libavcodec']))}); "
            f"torchcodec {torchcodec.__version__} (system FFmpeg {get_ffmpeg_library_versions()['ffmpeg_version']});"
            f" torch {torch.__version__}; reference: imageio-ffmpeg's ffmpeg {cli}")


def summary(key: tuple[str, str, str], row: dict, decord: dict) -> dict:
    """One row of the table: a format, size and backend's timings and comparisons."""
    wall, cpu = np.array(row["decode"]).T / row["n"]
    decord_wall, decord_cpu = np.array(decord["decode"]).T / row["n"]
    ratio, cpu_ratio = wall / decord_wall, cpu / decord_cpu
    counts = {f["counts"] for f in row["fid"]}  # (index, decoded, ffmpeg) frame counts
    return {
        "format": key[0], "size": key[1], "backend": key[2], "seconds_median": np.median(wall),
        "fps": np.mean([c[1] for c in counts]) / np.median(wall),
        "ratio_median": np.median(ratio), "ratio_min": ratio.min(), "ratio_max": ratio.max(),
        "cpu_seconds_median": np.median(cpu), "cpu_ratio_median": np.median(cpu_ratio),
        "cpu_ratio_min": cpu_ratio.min(), "cpu_ratio_max": cpu_ratio.max(), "cpu_per_wall": np.median(cpu / wall),
        "probe_seconds": np.median(np.array(row["probe"])[:, 0] / row["n"]),
        "equal_to_ffmpeg": all(f["equal"] for f in row["fid"]), "psnr_min": min(f["psnr"] for f in row["fid"]),
        "frames_agree": all(len(set(c)) == 1 for c in counts),
        "frames": ";".join(sorted("/".join(map(str, c)) for c in counts)),
        "cache_equal_to_decord": all(e for e, _ in row["cache"]), "cache_psnr_min": min(p for _, p in row["cache"])}


def markdown_table(table: list[dict]) -> list[str]:
    yes = {True: "yes", False: "**no**"}
    lines = ["| format | size | backend | s/video | frames/s | / decord (min-max) | CPU s/video | "
             "CPU / decord (min-max) | CPU/wall | probe s | = ffmpeg | PSNR min dB | "
             "frames agree (index/decoded/ffmpeg) | cache = decord | cache PSNR min dB |", "|" + "---|" * 15]
    for t in table:
        lines.append(
            f"| {t['format']} | {t['size']} | {t['backend']} | {t['seconds_median']:.3f} | {t['fps']:.0f} | "
            f"{t['ratio_median']:.2f} ({t['ratio_min']:.2f}-{t['ratio_max']:.2f}) | {t['cpu_seconds_median']:.3f} | "
            f"{t['cpu_ratio_median']:.2f} ({t['cpu_ratio_min']:.2f}-{t['cpu_ratio_max']:.2f}) | "
            f"{t['cpu_per_wall']:.2f} | {t['probe_seconds']:.3f} | {yes[t['equal_to_ffmpeg']]} | {t['psnr_min']:.1f} | "
            f"{yes[t['frames_agree']]} ({t['frames']}) | {yes[t['cache_equal_to_decord']]} | "
            f"{t['cache_psnr_min']:.1f} |")
    return lines


def all_cpu() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def isolation(paths: list[Path], folder: Path, rounds: int) -> str:
    """The child process's cost: decode_shard against the same work in this process (module docstring)."""
    import pandas as pd

    from zsar.data.cache import ShardWriter
    from zsar.data.decode import decode_shard
    from zsar.data.index import index_videos

    for k in range(6):
        (folder / f"v{k}{paths[0].suffix}").write_bytes(paths[k % len(paths)].read_bytes())
    table = pd.DataFrame({"video_id": [f"v{k}" for k in range(6)], "path": [f"v{k}{paths[0].suffix}" for k in range(6)],
                          "label": "x", "split": "test"})
    index = index_videos(table, folder, 1)

    def isolated():
        decode_shard(index, folder, 0, folder / "isolated.h5", CACHE_SHORT_SIDE)

    def in_process():
        with ShardWriter(folder / "in_process.h5", short_side=CACHE_SHORT_SIDE) as writer:
            for row in index.itertuples():
                shape = sampling.resized_shape(int(row.height), int(row.width), CACHE_SHORT_SIDE)
                writer.add(row.video_id, row.label, video.decode(folder / row.path, video.DEFAULT, *shape, int(row.frames)))

    ratios = []
    for r in range(rounds):
        cpu = {}
        for name, fn in sorted({"isolated": isolated, "in_process": in_process}.items(), reverse=r % 2 == 1):
            start = all_cpu()
            fn()
            cpu[name] = all_cpu() - start
        ratios.append(cpu["isolated"] / cpu["in_process"])
    same = (folder / "isolated.h5").read_bytes() == (folder / "in_process.h5").read_bytes()
    return (f"Isolation ({video.DEFAULT}, 6 videos of 640x360 H.264 to a shard at short side {CACHE_SHORT_SIDE}, "
            f"{rounds} rounds): CPU decode_shard (a child process) / in this process: median "
            f"{np.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}); the shards are "
            f"{'byte-identical' if same else 'different'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for decoders.csv, decoders.md, the videos")
    parser.add_argument("--videos", type=int, default=2, help="videos per format and size")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (each runs every backend once)")
    parser.add_argument("--only", choices=["isolation"], help="measure the child process's cost alone")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started, load = time.perf_counter(), os.getloadavg()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    groups = make_videos(args.out / "videos", args.videos)
    encoded = time.perf_counter() - started
    (args.out / "isolation").mkdir(exist_ok=True)
    isolation_line = isolation(groups["H.264 mp4", "640x360"], args.out / "isolation", args.rounds)
    print(isolation_line)
    if args.only == "isolation":
        return
    rows = {(name, size, backend): {"decode": [], "probe": [], "fid": [], "cache": [], "n": len(paths)}
            for (name, size), paths in groups.items() for backend in video.BACKENDS}

    # Fidelity, native size against the ffmpeg command line; then the warm-up pass at the cache's size.
    for (name, size), paths in groups.items():
        height, width = dims(size)
        for path in paths:
            raw = ffmpeg("-i", path, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
            reference = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
            for backend in video.BACKENDS:
                rows[name, size, backend]["fid"].append(fidelity(path, backend, reference))
            del raw, reference
            shape = sampling.resized_shape(height, width, CACHE_SHORT_SIDE)
            cached = {backend: video.decode(path, backend, *shape) for backend in video.BACKENDS}
            for backend in video.BACKENDS:
                rows[name, size, backend]["cache"].append(compare(cached[backend], cached["decord"]))

    # Speed: rounds of every backend in turn, the order rotating.
    for r in range(args.rounds):
        order = video.BACKENDS[r % 3:] + video.BACKENDS[:r % 3]
        for (name, size), paths in groups.items():
            shape = sampling.resized_shape(*dims(size), CACHE_SHORT_SIDE)
            for backend in order:
                row = rows[name, size, backend]
                row["decode"].append(timed(lambda: [video.decode(p, backend, *shape) for p in paths]))
                row["probe"].append(timed(lambda: [video.probe(p, backend) for p in paths]))

    table = [summary(key, row, rows[key[0], key[1], "decord"]) for key, row in rows.items()]
    with open(args.out / "decoders.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows([{k: f"{v:.4g}" if isinstance(v, float) else v for k, v in t.items()} for t in table])
    cpu_model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                      if line.startswith("model name")), "?")
    markdown = "\n".join([
        "# Video decoder backends", "",
        f"Command: `{' '.join([os.path.relpath(sys.executable), *sys.argv])}`  ",
        f"Machine: nproc {len(os.sched_getaffinity(0))} ({os.cpu_count()} CPUs), {cpu_model}, {platform.platform()};"
        f" load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end  ",
        f"Libraries: {versions()}  ",
        f"Videos: {args.videos} per format and size, {SECONDS} s at {FPS} fps; cache size: short side "
        f"{CACHE_SHORT_SIDE}; {args.rounds} interleaved rounds after a warm-up; torch 1 thread  ",
        f"Runtime: {time.perf_counter() - started:.0f} s (encoding the videos: {encoded:.0f} s)", "",
        *markdown_table(table), "", isolation_line, ""])
    (args.out / "decoders.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
