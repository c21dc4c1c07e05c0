"""Benchmark (issue 5a): decoding the 25 test clips of a video with decord, against the ffmpeg binary
that imageio-ffmpeg ships decoding the whole file (`ffmpeg -i FILE -f null -`).

Both run single-threaded (decode_clips runs one shard per core), and, as a second figure, with
their default thread counts. Target: ratio (decord / ffmpeg) at most 1.0.

    .venv/bin/python benchmarks/decode_test_clips.py [--rounds 10]

The two sides of each row run interleaved: in each of `rounds` rounds (after one untimed warm-up
run of each), decord then ffmpeg, timed in wall-clock seconds (ffmpeg's include starting the
binary). A row shows each side's median time and the median over rounds of the paired (same round)
ratio decord / ffmpeg, with its min-max over the rounds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import decord
import imageio_ffmpeg
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from videos import write

from zsar.data import sampling
from zsar.data import video


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(ours, theirs, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of each side in each round, the sides alternating: ours, theirs, ours, theirs..."""
    ours(), theirs()  # warm-up: files in the page cache, libraries loaded
    times = np.array([(timed(ours), timed(theirs)) for _ in range(rounds)])
    return times[:, 0], times[:, 1]


def row(label: str, threads: str, ours: np.ndarray, theirs: np.ndarray, note: str = "") -> None:
    ratio = ours / theirs
    print(f"{label:<28}{threads:>8}{np.median(ours):>16.3f}s{np.median(theirs):>13.3f}s"
          f"{np.median(ratio):>8.2f} ({ratio.min():.2f}-{ratio.max():.2f}){note}")


def decord_clips(path: Path, threads: int, length=16, stride=1, n_clips=25) -> None:
    reader = decord.VideoReader(str(path), num_threads=threads)
    n = len(reader)
    starts = sampling.uniform_clip_starts(n, length, stride, n_clips)
    wanted = np.unique(np.concatenate([sampling.clip_indices(s, length, stride, n) for s in starts]))
    reader.get_batch(wanted.tolist()).asnumpy()


def decord_cached(path: Path) -> None:
    """What decode_clips does per video: every frame, scaled to a 128-pixel short side."""
    video.decode(path, "decord", 128, 171)


def ffmpeg_whole(path: Path, threads: int | None, rgb: bool = False) -> None:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin"]
    if threads:
        command += ["-threads", str(threads)]
    # rgb: convert every frame to RGB as decord does, for a like-for-like figure.
    subprocess.run(command + ["-i", str(path)] + (["-pix_fmt", "rgb24"] if rgb else []) + ["-f", "null", "-"],
                   check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds per row")
    rounds = parser.parse_args().rounds
    folder = Path(tempfile.mkdtemp())
    print(f"{'video':<28}{'threads':>8}{'decord 25 clips':>17}{'ffmpeg whole':>14}{'  ratio (min-max)'}")
    for codec, name in (("h264", "clip.mp4"), ("mpeg4", "clip.avi")):
        path = write(folder / name, codec)
        frames = len(decord.VideoReader(str(path)))
        label = f"{'H.264 mp4' if codec == 'h264' else 'MPEG-4 Part 2 AVI'} ({frames} fr)"
        for threads, ff_threads in ((1, 1), (0, None)):
            ours, theirs = interleaved(partial(decord_clips, path, threads), partial(ffmpeg_whole, path, ff_threads),
                                       rounds)
            row(label, "1" if threads == 1 else "default", ours, theirs)
        ours, theirs = interleaved(partial(decord_clips, path, 1), partial(ffmpeg_whole, path, 1, rgb=True), rounds)
        row(label, "1", ours, theirs, "   <- like for like: ffmpeg also converts to RGB (-pix_fmt rgb24)")
        ours, theirs = interleaved(partial(decord_cached, path), partial(ffmpeg_whole, path, 1), rounds)
        row(label, "1", ours, theirs, "   <- decode_clips' own path: all frames scaled to 171x128")
    print(f"(medians of {rounds} interleaved rounds, decord then ffmpeg in each; ratio: median of the rounds' "
          "decord / ffmpeg, min-max over rounds;\n 10 s, 320x240, 25 fps; 25 clips x 16 frames cover every frame "
          "of a 250-frame video)")


if __name__ == "__main__":
    main()
