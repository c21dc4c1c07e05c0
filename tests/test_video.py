"""The decoders (decode.backend): the same frames from every backend, and a video that breaks one
costs that video, never the shard."""

from __future__ import annotations

import faulthandler
import os
import signal
import subprocess
import time

import imageio_ffmpeg
import numpy as np
import pandas as pd
import pytest

from zsar.data import video
from zsar.data.cache import cached_videos, failed_videos
from zsar.data.decode import decode_shard
from zsar.data.index import index_videos

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
FORMATS = {"mp4": ["-c:v", "libx264", "-pix_fmt", "yuv420p"], "webm": ["-c:v", "libvpx-vp9", "-b:v", "300k"],
           "avi": ["-c:v", "mpeg4", "-q:v", "4"]}  # H.264, VP9, MPEG-4 Part 2


def encode(path, fmt: str, size: str = "96x72", frames: int = 24) -> None:
    source = f"testsrc2=size={size}:rate=24,noise=alls=10:allf=t,trim=end_frame={frames}"
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", source, *FORMATS[fmt], str(path)], check=True)


def ffmpeg_frames(path, height: int, width: int) -> np.ndarray:
    """The video's frames as the ffmpeg command line decodes them, native size, RGB."""
    out = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, height, width, 3)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_backend_gives_ffmpegs_frames_and_so_the_same_clip(tmp_path, fmt, backend):
    path = tmp_path / f"v.{fmt}"
    encode(path, fmt)
    reference = ffmpeg_frames(path, 72, 96)
    # the frame rate as the container says or as its duration gives it (torchcodec on WebM: 24.02)
    assert video.probe(path, backend) == {"frames": 24, "fps": pytest.approx(24, rel=0.01), "height": 72, "width": 96}
    native = np.concatenate(list(video.OPEN[backend](path).chunks()))
    clip = video.decode(path, backend, 32, 43, expected=24)
    if fmt == "avi":  # MPEG-4 Part 2 lets FFmpeg's versions differ by a grey level (zsar/data/video.py)
        assert psnr(native, reference) >= 45 and psnr(clip, video.resize(reference, 32, 43)) >= 45
    else:  # H.264 and VP9 decode bit-exactly
        np.testing.assert_array_equal(native, reference)
        np.testing.assert_array_equal(clip, video.resize(reference, 32, 43))


def crash_on_b(path, backend, height, width, expected):
    if path.name.startswith("b"):
        faulthandler.disable()  # pytest's, inherited by the fork: no traceback of this intended crash in the log
        os.kill(os.getpid(), signal.SIGSEGV)  # what a decoder's bug in native code does
    return video.decode(path, backend, height, width, expected)


def sleep_for(seconds):
    time.sleep(seconds)
    return seconds


def test_a_decoder_that_crashes_costs_its_video_and_the_shard_goes_on(tmp_path):
    for name in "abc":
        encode(tmp_path / f"{name}.mp4", "mp4")
    table = pd.DataFrame({"video_id": list("abc"), "path": [f"{n}.mp4" for n in "abc"], "label": "x", "split": "test"})
    index = index_videos(table, tmp_path, n_shards=1)
    counts = decode_shard(index, tmp_path, 0, tmp_path / "0.h5", short_side=32, decode=crash_on_b)
    assert counts == {"decoded": 2, "failed": 1, "skipped_undecodable": 0}
    assert sorted(cached_videos([tmp_path / "0.h5"])["video_id"]) == ["a", "c"]
    assert failed_videos(tmp_path / "0.h5") == [("b", f"{video.DEFAULT}: the decoder crashed (signal SIGSEGV)")]


def test_a_decoder_that_hangs_is_stopped_and_the_next_video_decodes():
    with video.Isolated() as isolated:
        with pytest.raises(video.DecodeError, match="the decoder hung"):
            isolated.call(sleep_for, 30, timeout=1)
        assert isolated.call(sleep_for, 0, timeout=10) == 0


def test_a_video_damaged_after_indexing_is_reported_by_the_decode_stage(tmp_path, backend):
    for name in ("good", "damaged"):
        encode(tmp_path / f"{name}.mp4", "mp4", frames=48)
    table = pd.DataFrame({"video_id": ["good", "damaged"], "path": ["good.mp4", "damaged.mp4"], "label": "x",
                          "split": "test"})
    index = index_videos(table, tmp_path, n_shards=1, backend=backend)
    assert index["decodable"].all()
    data = (tmp_path / "damaged.mp4").read_bytes()
    (tmp_path / "damaged.mp4").write_bytes(data[: len(data) // 2])  # cut while the cache was being built
    counts = decode_shard(index, tmp_path, 0, tmp_path / "0.h5", short_side=32, backend=backend)
    assert counts["decoded"] == 1 and counts["failed"] == 1
    [(video_id, reason)] = failed_videos(tmp_path / "0.h5")
    assert video_id == "damaged" and reason.startswith(f"{backend}: "), reason
    # a frame or two fewer than the index counted is a codec's rounding, not damage
    assert len(video.decode(tmp_path / "good.mp4", backend, 32, 43, expected=50)) == 48
