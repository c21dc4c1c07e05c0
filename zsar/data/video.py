"""Reading videos: three decoder backends behind one interface, one resize, and a decoder that cannot
take its job down (decode.backend; docs/decoders.md).

Every backend gives a video's frames at their native size as RGB, and zsar resizes them itself (FFmpeg's
area filter, through PyAV), so the frames do not depend on how a backend would scale them. H.264 and
VP9 decode bit-exactly by their standards: decord, PyAV and torchcodec give the ffmpeg command line's
bytes (tests/test_video.py). MPEG-4 Part 2 (UCF101's and HMDB51's .avi) allows its inverse transform a
tolerance, and FFmpeg's versions differ by one grey level in a rare pixel (benchmarks/decoders.py:
2 pixels of 69 million, PSNR 97 dB). zsar counts these as the same frames: changing the backend
decodes the cache again but retrains nothing (plan.trained_frames_digest leaves the backend out).

A decoder is native code: a damaged file can crash or hang it. `Isolated` runs it in a child process,
so that a crash or a hang costs one video, reported with its reason, and never the shard's job.
"""

from __future__ import annotations

import re
import signal
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import numpy as np

BACKENDS = ("decord", "pyav", "torchcodec")
DEFAULT = "pyav"  # chosen by benchmarks/decoders.py and robustness (docs/decoders.md)
RESIZE = "swscale-area"  # how frames reach the cache's size, whatever the backend (the frames' identity)
PROBE_LIMIT = 120.0  # seconds a probe (the index: frame count, size, last frame) may take before it counts as hung
CHUNK = 16  # frames decoded at a time: a video at native size is never held whole (1080p: 6 MB a frame)


class DecodeError(RuntimeError):
    """A video that a backend opened but could not read in full."""


def decoder_message(error: Exception, path: Path) -> str:
    """A decoder's message without clock times, source locations, check expressions or the file's path.

    The index and the results must not depend on when or where a video was read.
    """
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    # decord nests messages, each with its own "[12:03:44] src/file.cc:42: " prefix: strip them all.
    text = re.sub(r"\[\d\d:\d\d:\d\d\] \S+:\d+: ", "", text)
    text = re.sub(r"Check failed: .*?\(-?\d+ vs\. -?\d+\) ", "", text)  # "Check failed: f(x) >= 0 (-22 vs. 0) <message>"
    text = re.sub(r"^\w+, /\S+:\d+, ", "", text)  # torchcodec's "function, /path/file.cpp:1493, <message>"
    text = re.sub(r"^\[Errno -?\d+\] ", "", text)  # PyAV's FFmpeg error number
    return text.replace(str(path), path.name)[:200]


def resize(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB frames at (height, width) by FFmpeg's area filter (swscale, via PyAV).

    Area averaging suits the cache's downscaling (a 360p video to 128: 2.8x), and swscale is native
    code, frame by frame, whatever the backend.
    """
    if frames.shape[1:3] == (height, width):
        return frames
    import av

    out = np.empty((len(frames), height, width, 3), dtype=np.uint8)
    for i, frame in enumerate(frames):
        out[i] = av.VideoFrame.from_ndarray(frame, format="rgb24").to_ndarray(
            format="rgb24", width=width, height=height, interpolation="AREA")
    return out


# --- the backends: OPEN[name](path) -> a reader with count(), fps, chunks() of native RGB frames, last() ---

class _Decord:
    def __init__(self, path: Path):
        import decord

        self.reader = decord.VideoReader(str(path), num_threads=1)
        self.fps = float(self.reader.get_avg_fps())

    def count(self) -> int:
        return len(self.reader)

    def chunks(self):
        n = len(self.reader)
        for start in range(0, n, CHUNK):
            yield self.reader.get_batch(list(range(start, min(n, start + CHUNK)))).asnumpy()

    def last(self) -> np.ndarray:
        return self.reader[len(self.reader) - 1].asnumpy()


class _PyAV:
    def __init__(self, path: Path):
        import av

        self.path = str(path)
        with av.open(self.path) as container:
            if not container.streams.video:
                raise DecodeError("no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            self.fps = float(rate) if rate else 0.0
        self.last_pts = None

    def count(self) -> int:
        """Frames as the container's packets give them (demuxed, not decoded), as decord and torchcodec count."""
        import av

        n = 0
        with av.open(self.path) as container:
            for packet in container.demux(container.streams.video[0]):
                if packet.size:
                    n += 1
                    if packet.pts is not None and (self.last_pts is None or packet.pts > self.last_pts):
                        self.last_pts = packet.pts
        return n

    def frames(self, seek=None):
        import av

        with av.open(self.path) as container:
            stream = container.streams.video[0]
            if seek is not None:
                container.seek(seek, stream=stream, backward=True)
            yield from container.decode(stream)

    def chunks(self):
        batch = []
        for frame in self.frames():
            batch.append(frame.to_ndarray(format="rgb24"))
            if len(batch) == CHUNK:
                yield np.stack(batch)
                batch = []
        if batch:
            yield np.stack(batch)

    def last(self) -> np.ndarray:
        if self.last_pts is None:
            self.count()
        frame = None
        for frame in self.frames(seek=self.last_pts):
            pass
        if frame is None:
            raise DecodeError("the last frame does not decode")
        return frame.to_ndarray(format="rgb24")


class _TorchCodec:
    def __init__(self, path: Path):
        from torchcodec.decoders import VideoDecoder

        self.decoder = VideoDecoder(str(path), dimension_order="NHWC", num_ffmpeg_threads=1, seek_mode="exact")
        self.fps = float(self.decoder.metadata.average_fps or 0.0)

    def count(self) -> int:
        return self.decoder.metadata.num_frames or 0

    def chunks(self):
        n = self.count()
        for start in range(0, n, CHUNK):
            yield self.decoder.get_frames_in_range(start, min(n, start + CHUNK)).data.numpy()

    def last(self) -> np.ndarray:
        return self.decoder.get_frame_at(self.count() - 1).data.numpy()


OPEN = {"decord": _Decord, "pyav": _PyAV, "torchcodec": _TorchCodec}


def check_backend(backend: str) -> None:
    """Refuse an unknown backend, or one that cannot load here, saying what to do."""
    if backend not in OPEN:
        raise ValueError(f"decode.backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "torchcodec":
        from torchcodec.decoders import VideoDecoder

        try:
            VideoDecoder(bytes(64))  # loads FFmpeg's libraries first, then fails on the bytes
        except Exception as error:  # RuntimeError, OSError or ValueError, by what is missing
            if "libtorchcodec" in str(error):
                raise ValueError(
                    "decode.backend torchcodec cannot load FFmpeg's shared libraries (versions 4 to 9) on this "
                    "machine: install them (Debian/Ubuntu: apt-get install ffmpeg; conda: ffmpeg), or use "
                    "decode.backend pyav, which ships its own") from None


def probe(path: Path, backend: str) -> dict:
    """Frame count, frame rate and size, reading the last frame too (where truncated files fail)."""
    reader = OPEN[backend](path)
    n = reader.count()
    if n == 0:
        raise DecodeError("zero frames")
    height, width = reader.last().shape[:2]
    return {"frames": n, "fps": reader.fps, "height": height, "width": width}


def decode(path: Path, backend: str, height: int, width: int, expected: int | None = None) -> np.ndarray:
    """All frames of a video at (height, width), uint8 RGB; a DecodeError when clearly fewer than the
    index's `expected` frames decode (a file truncated after it was indexed, or a broken index).

    Clearly: more than 2 frames or 2% short. A container's packet count and the frames its decoder
    gives may differ by a frame or two (an edit list, a dropped leading B-frame), which costs nothing."""
    parts = [resize(chunk, height, width) for chunk in OPEN[backend](path).chunks()]
    frames = np.concatenate(parts) if parts else np.empty((0, height, width, 3), np.uint8)
    if len(frames) == 0:
        raise DecodeError("no frame decodes")
    if expected and len(frames) < expected - max(2, expected // 50):
        raise DecodeError(f"only {len(frames)} of {expected} frames decode: a truncated or damaged file?")
    return frames


class Isolated:
    """Runs decoder calls in `workers` child processes: a crash (a segfault in native code) or a hang
    costs the call that caused it, reported as a DecodeError, and a fresh child takes the next call.

    Use as a context manager: `submit(function, *args, timeout=seconds)` gives a future, `result(future)`
    its value or a DecodeError; `call` does both.
    """

    def __init__(self, workers: int = 1):
        import multiprocessing

        from pebble import ProcessPool

        # fork: a child is a copy of this process, which has loaded no decoder (spawn and forkserver
        # would run a Snakemake job's script again in every child, as their __main__).
        self.pool = ProcessPool(max_workers=max(1, workers), context=multiprocessing.get_context("fork"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.pool.stop()
        self.pool.join()

    def submit(self, function, *args, timeout: float):
        return self.pool.schedule(function, args, timeout=timeout)

    @staticmethod
    def result(future):
        from pebble import ProcessExpired

        try:
            return future.result()
        except FutureTimeout:
            raise DecodeError("the decoder hung: no result in the time limit (video.time_limit)") from None
        except ProcessExpired as error:
            code = error.exitcode
            signals = {sig.value: sig.name for sig in signal.Signals}
            how = f"signal {signals.get(-code, -code)}" if code and code < 0 else f"exit code {code}"
            raise DecodeError(f"the decoder crashed ({how})") from None

    def call(self, function, *args, timeout: float):
        return self.result(self.submit(function, *args, timeout=timeout))


def time_limit(frames: int | None, fps: float | None) -> float:
    """Seconds a video may take to decode before it counts as hung: 2 minutes, plus 10 s a second of video."""
    seconds = (frames or 0) / fps if fps and fps > 0 else 60.0
    return 120.0 + 10.0 * seconds
