"""Benchmark: the clip cache's storage formats, for size, read speed and fidelity, against decoding
each training clip with decord on the fly.

    .venv/bin/python benchmarks/cache_formats.py [n_videos] [--rounds R] [--presets e2e rest18]

For each sampling preset, e2e (cache short side 128; clips of 16 frames at stride 1, 112 crop) and
rest18 (short side 256; 16 frames at stride 6, 224 crop), the script writes n_videos (default 32)
copies of one 10-second 320x240 H.264 test video (benchmarks/videos.py: 25 fps, 250 frames; same
content, so the sizes and speeds are those of one video, and the page cache holds every file),
decodes it once as decode_clips does (decord, scaled in the decoder to the short side: 128x171 or
256x341) and writes one shard per format through zsar.data.cache.ShardWriter:

    JPEG q90        codec="jpeg", quality=90 (the default: libjpeg-turbo via simplejpeg, 4:2:0)
    raw+lzf         codec="raw", compression="lzf" (what the version-1 cache stored)
    raw+blosc-lz4   codec="raw", compression="blosc-lz4"

and compares them with "decord": each training clip decoded from the video file when it is asked
for (a new VideoReader scaled in the decoder to the cache's size, one thread, the clip's frames read
as decord's get_batch reads them, then the crop), with exactly TrainClips' sampling (same seeds,
clip start and crop box).

What the figures mean:
  MB/video       shard file size / n_videos (10 s of video). "/ raw+lzf": JPEG's size over raw+lzf's
                 (goal <= 1/6 = 0.167).
  clips/CPU-s    training clips (clip read + crop through TrainClips.__getitem__) per second of this
                 process's CPU time (time.process_time, all its threads), in one process without
                 DataLoader workers: the rate of one core. Measured in R rounds; each round runs every
                 side once, one after the other (JPEG, raw+lzf, raw+blosc-lz4, decord), after one
                 untimed warm-up round. A cache side reads several epochs of n_videos clips per round
                 (so that it runs about as long as decord's one epoch); each epoch draws new clips.
  ratio          the median over rounds of the paired (same round) ratio of clips/CPU-s, with its
                 min-max over the rounds: JPEG / decord (goal >= 5) and JPEG / raw+lzf.
  luma PSNR      of the JPEG cache's frames against the raw cache's (bit-exact decoded) frames, on
                 BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B (full range, 0-255, no offset), from the
                 mean squared error pooled over every pixel of all 250 frames (goal >= 40 dB at
                 q90); the worst single frame is shown too.
  K700 TB        580,317 Kinetics-700 videos (train + val) x MB/video. Assumes Kinetics clips are
                 like the test video: 10 s at 25 fps (250 frames) and 4:3 (so 128x171 or 256x341
                 after resizing). At 30 fps add 20%; a 16:9 video is 1.33x wider than a 4:3 one at
                 the same short side, so count 33% more for those.

Also printed, for information: the CPU time to write (encode + compress) one video into each format,
and where a JPEG clip read's time goes (h5py reads of the frames' bytes vs JPEG decoding).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import decord
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from videos import write

from zsar.data import sampling
from zsar.data.cache import Shards, ShardWriter, cached_videos
from zsar.data.clips import TrainClips
from zsar.data import video
from zsar.methods import SAMPLING_PRESETS

KINETICS_700_VIDEOS = 580_317
PRESETS = {"e2e": 128, "rest18": 256}  # preset -> the cache's short side
FORMATS = {"JPEG q90": {"codec": "jpeg", "quality": 90},
           "raw+lzf": {"codec": "raw", "compression": "lzf"},
           "raw+blosc-lz4": {"codec": "raw", "compression": "blosc-lz4"}}
SOURCE = (240, 320)  # the test video's height, width


class DecordClips:
    """TrainClips' samples, each decoded from its video file when asked for."""

    def __init__(self, paths, height, width, *, length, stride, crop, seed=0):
        self.paths, self.height, self.width = paths, height, width
        self.length, self.stride, self.crop, self.seed, self.epoch = length, stride, crop, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, self.epoch, i])  # as TrainClips draws
        reader = decord.VideoReader(str(self.paths[i]), width=self.width, height=self.height, num_threads=1)
        n_frames = len(reader)
        start = sampling.random_clip_start(n_frames, self.length, self.stride, rng)
        top, left, flip = sampling.random_crop_box(self.height, self.width, self.crop, rng)
        frames = reader.get_batch(list(sampling.clip_indices(start, self.length, self.stride, n_frames))).asnumpy()
        clip = np.ascontiguousarray(frames[:, top:top + self.crop, left:left + self.crop])
        return torch.from_numpy(clip), flip, 0


def read_epochs(dataset, epochs) -> tuple[int, float]:
    """(clips, CPU seconds) to read every item of `dataset` in each of `epochs`."""
    count, started = 0, time.process_time()
    for epoch in epochs:
        dataset.set_epoch(epoch)
        for i in range(len(dataset)):
            dataset[i]
            count += 1
    return count, time.process_time() - started


def luma(frames: np.ndarray) -> np.ndarray:
    """BT.601 luma of RGB frames, float, 0-255."""
    return frames.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def psnr(mse: float) -> float:
    return 10 * np.log10(255.0 ** 2 / mse) if mse > 0 else float("inf")


def jpeg_read_profile(path: Path, video_id: str, length: int, stride: int, clips: int = 200) -> dict:
    """Where a JPEG clip read's time goes: CPU ms per clip for fetching the frames' bytes through
    h5py (the offsets and each frame's bytes, as CachedVideo reads them) and for decoding them."""
    import h5py
    import simplejpeg

    rng = np.random.default_rng(1)
    fetch = decode = 0.0
    with h5py.File(path, "r") as f:
        data, n = f["frames"][video_id], int(f["n_frames"][0])
        base = int(f["offset_start"][f["video_id"].asstr()[:].tolist().index(video_id)])
        for _ in range(clips):
            wanted = np.unique(sampling.clip_indices(sampling.random_clip_start(n, length, stride, rng),
                                                     length, stride, n))
            t0 = time.process_time()
            offsets = f["offsets"][base + wanted[0]: base + wanted[-1] + 2]
            if len(offsets) - 1 <= 2 * len(wanted):  # the same choice CachedVideo makes
                span, rel = data[offsets[0]:offsets[-1]], offsets - offsets[0]
                encoded = [span[rel[j]:rel[j + 1]] for j in wanted - wanted[0]]
            else:
                encoded = [data[offsets[j]:offsets[j + 1]] for j in wanted - wanted[0]]
            t1 = time.process_time()
            for e in encoded:
                simplejpeg.decode_jpeg(e, colorspace="RGB")
            t2 = time.process_time()
            fetch, decode = fetch + t1 - t0, decode + t2 - t1
    return {"h5py": 1e3 * fetch / clips, "decode": 1e3 * decode / clips}


def spread(values) -> str:
    values = np.asarray(values)
    return f"{np.median(values):.2f} ({values.min():.2f}-{values.max():.2f})"


def run_preset(name: str, short_side: int, paths: list[Path], folder: Path, rounds: int) -> dict:
    clip = SAMPLING_PRESETS[name]
    length, stride, crop = clip["frames"], clip["stride"], clip["crop"]
    height, width = sampling.resized_shape(*SOURCE, short_side)
    frames = video.decode(paths[0], "decord", height, width)  # every path holds the same bytes
    result = {"name": name, "shape": (len(frames), height, width), "clip": (length, stride, crop),
              "size": {}, "write": {}, "rates": {}}

    datasets = {}
    for label, settings in FORMATS.items():
        shard = folder / f"{name}-{label}.h5"
        started = time.process_time()
        with ShardWriter(shard, short_side=short_side, **settings) as writer:
            for path in paths:
                writer.add(path.stem, "x", frames)
        result["write"][label] = (time.process_time() - started) / len(paths)
        result["size"][label] = shard.stat().st_size / len(paths)
        datasets[label] = TrainClips(cached_videos([shard]), {"x": 0}, length=length, stride=stride,
                                     crop=crop, seed=0)
        result.setdefault("shards", {})[label] = shard
    datasets["decord"] = DecordClips(paths, height, width, length=length, stride=stride, crop=crop)

    # Fidelity: JPEG frames against the raw frames (which are the decoded frames, bit for bit).
    shards = Shards()
    raw = shards.video(str(result["shards"]["raw+lzf"]), paths[0].stem).read(np.arange(len(frames)))
    assert np.array_equal(raw, frames), "raw cache frames differ from the decoded frames"
    jpeg = shards.video(str(result["shards"]["JPEG q90"]), paths[0].stem).read(np.arange(len(frames)))
    shards.close()
    err = (luma(jpeg) - luma(raw)) ** 2
    result["psnr"] = psnr(err.mean())
    result["psnr_worst_frame"] = min(psnr(m) for m in err.mean(axis=(1, 2)))

    # Speed: one untimed warm-up round, then `rounds` rounds of every side in turn.
    # A cache side reads `reps` epochs per round, sized so that it runs about as long as decord.
    read_epochs(datasets["decord"], [10_000])
    probe = {label: read_epochs(datasets[label], [10_000]) for label in FORMATS}
    _, decord_cpu = read_epochs(datasets["decord"], [10_001])
    reps = {label: max(1, min(50, round(decord_cpu / max(cpu, 1e-6)))) for label, (_, cpu) in probe.items()}
    reps["decord"] = 1
    rates = {label: [] for label in datasets}
    for r in range(rounds):
        for label, dataset in datasets.items():
            count, cpu = read_epochs(dataset, range(r * reps[label], (r + 1) * reps[label]))
            rates[label].append(count / cpu)
    result["rates"] = {label: np.array(v) for label, v in rates.items()}
    result["reps"] = reps
    result["profile"] = jpeg_read_profile(result["shards"]["JPEG q90"], paths[0].stem, length, stride)
    for shard in result["shards"].values():
        shard.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_videos", nargs="?", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (each runs every side once)")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    args = parser.parse_args()
    torch.set_num_threads(1)

    folder = Path(tempfile.mkdtemp(prefix="zsar-cache-formats-"))
    try:
        first = write(folder / "videos/v000.mp4", "h264")
        paths = [first] + [folder / f"videos/v{k:03d}.mp4" for k in range(1, args.n_videos)]
        for path in paths[1:]:
            shutil.copyfile(first, path)
        video_bytes = first.stat().st_size
        results = [run_preset(name, PRESETS[name], paths, folder, args.rounds) for name in args.presets]
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"{args.n_videos} copies of one 10 s 320x240 25 fps H.264 video ({video_bytes / 1e3:.0f} kB, "
          f"keyframes every 200 frames or so); {args.rounds} interleaved rounds after a warm-up;"
          f" one process, torch/decord 1 thread")
    for res in results:
        t, h, w = res["shape"]
        length, stride, crop = res["clip"]
        print(f"\n== {res['name']}: cache {w}x{h} (short side {min(h, w)}), {t} frames; "
              f"clips of {length} frames at stride {stride}, {crop} crop ==")
        print(f"{'side':<15}{'MB/video':>9}{'/ raw+lzf':>10}{'K700 TB':>9}{'write CPU-s/video':>19}"
              f"{'clips/CPU-s (min-max)':>30}{'epochs/round':>13}")
        lzf = res["size"]["raw+lzf"]
        for label in [*FORMATS, "decord"]:
            rate = res["rates"][label]
            rate_text = f"{np.median(rate):.1f} ({rate.min():.1f}-{rate.max():.1f})"
            if label in FORMATS:
                size = res["size"][label]
                print(f"{label:<15}{size / 1e6:>9.2f}{size / lzf:>10.3f}{size * KINETICS_700_VIDEOS / 1e12:>9.1f}"
                      f"{res['write'][label]:>19.2f}{rate_text:>30}{res['reps'][label]:>13}")
            else:
                print(f"{'decord':<15}{'-':>9}{'-':>10}{'-':>9}{'-':>19}{rate_text:>30}{1:>13}")
        jpeg = res["rates"]["JPEG q90"]
        print(f"JPEG / decord clips/CPU-s, median of paired ratios (min-max): "
              f"{spread(jpeg / res['rates']['decord'])}   goal >= 5")
        print(f"JPEG / raw+lzf clips/CPU-s, median of paired ratios (min-max): "
              f"{spread(jpeg / res['rates']['raw+lzf'])}")
        print(f"JPEG / raw+blosc-lz4 clips/CPU-s, median of paired ratios (min-max): "
              f"{spread(jpeg / res['rates']['raw+blosc-lz4'])}")
        print(f"JPEG size / raw+lzf size: {res['size']['JPEG q90'] / lzf:.3f} = 1/{lzf / res['size']['JPEG q90']:.1f}"
              f"   goal <= 1/6")
        print(f"JPEG q90 luma PSNR (BT.601 Y, MSE pooled over all frames): {res['psnr']:.2f} dB "
              f"(worst frame {res['psnr_worst_frame']:.2f} dB)   goal >= 40 dB")
        prof = res["profile"]
        print(f"JPEG clip read, CPU ms per clip: h5py byte reads {prof['h5py']:.2f}, JPEG decode {prof['decode']:.2f}")
    print(f"\nK700 TB: {KINETICS_700_VIDEOS:,} videos x MB/video, assuming 10 s at 25 fps and 4:3 like the test "
          "video (30 fps: +20%; 16:9 at the same short side: +33%).")


if __name__ == "__main__":
    main()
