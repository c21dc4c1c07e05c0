"""Benchmark (issue 5a): decoding the 25 test clips of a video with decord, against the ffmpeg binary
that imageio-ffmpeg ships decoding the whole file (`ffmpeg -i FILE -f null -`).

Both run single-threaded (decode_clips runs one shard per core), and, as a second figure, with
their default thread counts. Target: ratio (decord / ffmpeg) at most 1.0.

    .venv/bin/python benchmarks/decode_test_clips.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import decord
import imageio_ffmpeg
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from videos import write  # noqa: E402

from zsar import sampling  # noqa: E402
from zsar.clips import decode_video, read_frames  # noqa: E402

REPEATS = 10


def best_of(fn) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def decord_clips(path: Path, threads: int, length=16, stride=1, n_clips=25) -> None:
    reader = decord.VideoReader(str(path), num_threads=threads)
    n = len(reader)
    starts = sampling.uniform_clip_starts(n, length, stride, n_clips)
    wanted = np.unique(np.concatenate([sampling.clip_indices(s, length, stride, n) for s in starts]))
    read_frames(reader, wanted.tolist())


def decord_cached(path: Path) -> None:
    """What decode_clips does per video: every frame, scaled to a 128-pixel short side."""
    decode_video(path, 128, 171)


def ffmpeg_whole(path: Path, threads: int | None, rgb: bool = False) -> None:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin"]
    if threads:
        command += ["-threads", str(threads)]
    # rgb: convert every frame to RGB as decord does, for a like-for-like figure.
    subprocess.run(command + ["-i", str(path)] + (["-pix_fmt", "rgb24"] if rgb else []) + ["-f", "null", "-"],
                   check=True)


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    print(f"{'video':<28}{'threads':>8}{'decord 25 clips':>17}{'ffmpeg whole':>14}{'ratio':>8}")
    for codec, name in (("h264", "clip.mp4"), ("mpeg4", "clip.avi")):
        path = write(folder / name, codec)
        frames = len(decord.VideoReader(str(path)))
        label = f"{'H.264 mp4' if codec == 'h264' else 'MPEG-4 Part 2 AVI'} ({frames} fr)"
        for threads, ff_threads in ((1, 1), (0, None)):
            ours = best_of(lambda: decord_clips(path, threads))
            theirs = best_of(lambda: ffmpeg_whole(path, ff_threads))
            shown = "1" if threads == 1 else "default"
            print(f"{label:<28}{shown:>8}{ours:>16.3f}s{theirs:>13.3f}s{ours / theirs:>8.2f}")
        ours, theirs = best_of(lambda: decord_clips(path, 1)), best_of(lambda: ffmpeg_whole(path, 1, rgb=True))
        print(f"{label:<28}{'1':>8}{ours:>16.3f}s{theirs:>13.3f}s{ours / theirs:>8.2f}   "
              "<- like for like: ffmpeg also converts to RGB (-pix_fmt rgb24)")
        cached, theirs = best_of(lambda: decord_cached(path)), best_of(lambda: ffmpeg_whole(path, 1))
        print(f"{label:<28}{'1':>8}{cached:>16.3f}s{theirs:>13.3f}s{cached / theirs:>8.2f}   "
              "<- decode_clips' own path: all frames scaled to 171x128")
    print(f"(best of {REPEATS}; 10 s, 320x240, 25 fps; 25 clips x 16 frames cover every frame of a 250-frame video)")


if __name__ == "__main__":
    main()
