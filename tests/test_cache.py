"""The clip cache format (zsar/data/cache.py): what a reader gets back, what it decodes, what it keeps open."""

import h5py
import numpy as np
import pandas as pd
import pytest
import torch

from zsar.data import cache

from zsar.data import sampling
from zsar.data.cache import CacheFormatError, Shards, ShardWriter, cached_videos
from zsar.data.clips import TestClips as VideoTestClips, TrainClips


def smooth_video(n=40, h=48, w=64, seed=0):
    """Frames like a video's: smooth gradients that move, plus a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    frames = [np.stack([(x * 3 + t * 2) % 256, (y * 4 + t) % 256, (x + y + 5 * t) % 256], -1) for t in range(n)]
    return np.clip(np.array(frames) + rng.normal(0, 2, (n, h, w, 3)), 0, 255).astype(np.uint8)


def write(path, videos, **codec):
    with ShardWriter(path, short_side=48, **codec) as writer:
        for vid, frames in videos.items():
            writer.add(vid, "label", frames)
        writer.fail("broken", "decord: moov atom not found")
    return path


def psnr(a, b):
    return 10 * np.log10(255 ** 2 / np.mean((a.astype(float) - b.astype(float)) ** 2))


@pytest.mark.parametrize("codec", [{"codec": "raw", "compression": "blosc-lz4"}, {"codec": "raw", "compression": "lzf"}])
def test_raw_frames_come_back_bit_exact(tmp_path, codec):
    frames = smooth_video()
    write(tmp_path / "s.h5", {"v": frames}, **codec)
    video = Shards().video(str(tmp_path / "s.h5"), "v")
    assert np.array_equal(video.read(np.arange(40)), frames)
    assert np.array_equal(video.read([39, 0, 0, 7]), frames[[39, 0, 0, 7]])


def test_jpeg_frames_are_close_and_any_index_order_reads_the_same_frames(tmp_path):
    a, b = smooth_video(seed=1), smooth_video(n=12, seed=2)[:, :, :50]
    write(tmp_path / "s.h5", {"a": a, "b": b}, codec="jpeg", quality=90)
    shards = Shards()
    video = shards.video(str(tmp_path / "s.h5"), "a")
    assert (video.n_frames, video.height, video.width) == (40, 48, 64)
    every = video.read(np.arange(40))
    assert psnr(every, a) > 30
    strided = sampling.clip_indices(30, 16, 6, 40)  # wraps past the end
    assert np.array_equal(video.read(strided), every[strided])
    other = shards.video(str(tmp_path / "s.h5"), "b")
    assert other.read([11]).shape == (1, 48, 50, 3) and psnr(other.read([11])[0], b[11]) > 30
    table = cached_videos([tmp_path / "s.h5"])
    assert table[["video_id", "n_frames"]].values.tolist() == [["a", 40], ["b", 12]]
    assert cache.failed_videos(tmp_path / "s.h5") == [("broken", "decord: moov atom not found")]


@pytest.mark.parametrize("codec", [{"codec": "jpeg"}, {"codec": "raw", "compression": "blosc-lz4"}])
def test_a_damaged_frame_names_the_shard_the_video_the_frame_and_what_to_delete(tmp_path, codec):
    path = write(tmp_path / "s.h5", {"v": smooth_video(n=10)}, **codec)
    with h5py.File(path, "r+") as f:  # frame 6's bytes overwritten, as a bad disk block would
        if codec["codec"] == "jpeg":
            start, stop = f["offsets"][6], f["offsets"][7]
            f["frames/v"][start:stop] = 0
        else:
            f["frames/v"].id.write_direct_chunk((6, 0, 0, 0), b"\0" * 100)
    video = Shards().video(str(path), "v")
    assert video.read([0, 1, 2]).shape == (3, 48, 64, 3)  # the other frames still read
    with pytest.raises(cache.DamagedCache) as error:
        video.read([4, 5, 6, 7])
    which = "frame 6" if codec["codec"] == "jpeg" else "frames 4..7"
    assert f"{path}: {which} of video v cannot be read back" in str(error.value)
    assert f"delete {path} and run snakemake again" in str(error.value)


def test_a_clip_decodes_only_its_own_frames(tmp_path, monkeypatch):
    import simplejpeg

    write(tmp_path / "s.h5", {"v": smooth_video(n=120)}, codec="jpeg")
    decoded = []
    real = simplejpeg.decode_jpeg
    monkeypatch.setattr(simplejpeg, "decode_jpeg", lambda data, **kw: decoded.append(1) or real(data, **kw))
    video = Shards().video(str(tmp_path / "s.h5"), "v")
    video.read(sampling.clip_indices(10, 16, 6, 120))  # rest18: 16 frames at stride 6
    assert len(decoded) == 16
    decoded.clear()
    video.read(sampling.clip_indices(100, 16, 1, 120))  # e2e: 16 consecutive frames
    assert len(decoded) == 16


def test_open_files_stay_bounded_whatever_the_number_of_shards(tmp_path):
    paths = [str(write(tmp_path / f"{k}.h5", {f"v{k}": smooth_video(n=4, seed=k)})) for k in range(6)]
    shards = Shards(max_open=2)
    first = shards.video(paths[0], "v0").read([3])
    for k, path in enumerate(paths):
        shards.video(path, f"v{k}").read([0])
        assert shards.n_open() <= 2
    assert np.array_equal(shards.video(paths[0], "v0").read([3]), first)  # reopened after eviction


def test_a_cache_of_the_old_format_is_refused_with_what_to_do(tmp_path):
    old = tmp_path / "clips/ucf101/0.h5"
    old.parent.mkdir(parents=True)
    with h5py.File(old, "w") as f:  # version 1: raw frames per video, no format attributes
        f.create_dataset("frames/v", data=smooth_video(n=4))
        f.attrs["short_side"] = 128
    with pytest.raises(CacheFormatError, match=r"0\.h5 is a clip cache in an older format.*Delete .*ucf101/ and run snakemake"):
        cached_videos([old])
    with pytest.raises(CacheFormatError):
        Shards().video(str(old), "v")


def test_clips_leave_the_loader_as_cropped_uint8_and_are_flipped_and_scaled_on_the_device(tmp_path):
    frames = smooth_video(n=20)
    write(tmp_path / "s.h5", {"v": frames}, codec="raw")
    videos = pd.DataFrame({"shard_path": [str(tmp_path / "s.h5")] * 2, "video_id": ["v", "v"], "label": ["x", "x"]})
    train = TrainClips(videos, {"x": 0}, length=8, stride=2, crop=32, seed=0)
    draws = [train[i] for i in range(2)]
    for draw in draws:
        assert draw.keys() == {"clips", "flip", "label"}
        clip, flip, label = draw["clips"], draw["flip"], draw["label"]
        assert clip.dtype == torch.uint8 and clip.shape == (8, 32, 32, 3) and isinstance(flip, bool) and label == 0
    clips = torch.stack([draw["clips"] for draw in draws])
    flips = torch.tensor([True, False])
    x = sampling.to_model_input(clips, flips)
    assert x.shape == (2, 3, 8, 32, 32) and x.dtype == torch.float32
    assert torch.equal(x[0], sampling.to_model_input(clips[0].flip(-2)))
    assert torch.equal(x[1], sampling.to_model_input(clips[1]))
    assert float(x.min()) >= -1 and float(x.max()) <= 1

    test = VideoTestClips(videos[:1], length=8, stride=2, crop=32, n_clips=3)[0]["clips"]
    assert test.dtype == torch.uint8 and test.shape == (3, 8, 32, 32, 3)
    top, left = (48 - 32) // 2, (64 - 32) // 2
    assert torch.equal(test[0, 0], torch.from_numpy(frames[0, top:top + 32, left:left + 32]))


def test_a_video_side_rides_with_each_clip_and_reaches_the_model_as_keywords(tmp_path):
    """A method's per-video inputs (its spec's VideoSide) are keys of each sample, batched by the
    loader, and reach the loss module and `embed` as keyword arguments of the same name."""
    from torch.utils.data import DataLoader

    from zsar.models.extract import embed_videos
    from zsar.models.training import DeviceStep, train_step

    write(tmp_path / "s.h5", {"a": smooth_video(n=12), "b": smooth_video(n=12)}, codec="raw")
    videos = pd.DataFrame({"shard_path": [str(tmp_path / "s.h5")] * 2, "video_id": ["a", "b"], "label": ["x", "x"]})

    class Side:
        digest = "d"

        def of(self, video_id):
            return {"tag": np.full(2, 1.0 if video_id == "a" else 2.0, np.float32), "known": video_id == "a"}

    batch = next(iter(DataLoader(TrainClips(videos, {"x": 0}, length=4, stride=1, crop=16, seed=0, video_side=Side()),
                                 batch_size=2)))
    assert torch.equal(batch["tag"], torch.tensor([[1.0, 1.0], [2.0, 2.0]])) and batch["known"].tolist() == [True, False]

    class Model(torch.nn.Module):
        embed_dim = 2

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(()))
            self.seen = []

        def forward(self, clips, labels, *, tag, known):  # the loss module of a method with this side
            self.seen.append((clips.shape, tag.clone(), known.clone()))
            return (self.w * tag).sum()

        def embed(self, clips, *, tag, known):
            return tag * known[:, None]

    model = Model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    cpu = torch.device("cpu")
    train_step(model, optimizer, torch.amp.GradScaler("cpu", enabled=False), batch, cpu, DeviceStep.of(cpu, {}))
    assert model.seen[0][0] == (2, 3, 4, 16, 16) and torch.equal(model.seen[0][1], batch["tag"])
    embedded = embed_videos(model, videos, length=4, stride=1, crop=16, n_clips=3, video_side=Side())
    assert np.array_equal(embedded, [[1.0, 1.0], [0.0, 0.0]])  # each clip of a video got the video's side


def test_an_epoch_in_shard_runs_opens_each_shard_once_and_visits_every_video(tmp_path, monkeypatch):
    """ShardRuns: a seeded order of every video that reads the cache a window of shards at a time, so
    that a loader process with a handle budget of the window opens each shard once per epoch."""
    from zsar.data import cache
    from zsar.data.clips import ShardRuns

    paths = []
    for k in range(12):
        paths.append(str(write(tmp_path / f"{k}.h5", {f"v{k}_{j}": smooth_video(n=6) for j in range(4)}, codec="raw")))
    videos = pd.DataFrame({"shard_path": [p for p in paths for _ in range(4)],
                           "video_id": [f"v{k}_{j}" for k in range(12) for j in range(4)], "label": "x"})
    runs = ShardRuns(videos["shard_path"], window=3, seed=0)
    order = runs.order()
    assert sorted(order) == list(range(48)) and len(runs) == 48
    for start in range(0, 48, 12):  # each run of 12 videos comes from 3 shards
        assert videos["shard_path"].iloc[order[start:start + 12]].nunique() == 3
    assert np.array_equal(ShardRuns(videos["shard_path"], 3, seed=0).order(), order)  # seeded
    runs.set_epoch(1)
    assert not np.array_equal(runs.order(), order)
    ranks = [list(ShardRuns(videos["shard_path"][:47], 3, seed=0, rank=r, world=2)) for r in range(2)]
    assert len(ranks[0]) == len(ranks[1]) == 24 and set(ranks[0]) | set(ranks[1]) == set(range(47))

    opened = []
    real = cache._Shard.__init__
    monkeypatch.setattr(cache._Shard, "__init__", lambda self, path: opened.append(path) or real(self, path))

    def epoch(order):
        opened.clear()
        clips = TrainClips(videos, {"x": 0}, length=4, stride=1, crop=16, seed=0, max_open=3)
        for i in order:
            clips[i]
        return len(opened)

    assert epoch(ShardRuns(videos["shard_path"], 3, seed=0)) == 12
    assert epoch(np.random.default_rng(0).permutation(48)) > 30  # a plain shuffle reopens nearly every clip


def test_the_thread_feed_gives_exactly_the_batches_a_loader_without_workers_gives(tmp_path):
    """train.decode_threads: clips decoded in threads of the training process, batch for batch and
    epoch for epoch the DataLoader's, and the generator left in the same state (resume)."""
    from torch.utils.data import DataLoader

    from zsar.data.clips import ThreadFeed

    paths = [str(write(tmp_path / f"{k}.h5", {f"v{k}_{j}": smooth_video(n=10) for j in range(5)})) for k in range(3)]
    videos = pd.DataFrame({"shard_path": [p for p in paths for _ in range(5)],
                           "video_id": [f"v{k}_{j}" for k in range(3) for j in range(5)], "label": "x"})
    clips = TrainClips(videos, {"x": 0}, length=4, stride=2, crop=16, seed=3, max_open=1)
    reference = DataLoader(clips, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(3))
    feed = ThreadFeed(clips, batch_size=4, threads=3, generator=torch.Generator().manual_seed(3))
    assert len(feed) == len(reference) == 4
    for epoch in (1, 2):
        clips.set_epoch(epoch)
        expected, got = list(reference), list(feed)
        assert len(got) == 4
        for a, b in zip(expected, got):
            assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(feed.generator.get_state(), reference.generator.get_state())


def test_clips_decoded_on_the_device_are_the_cpu_paths_clips_within_45_db(tmp_path):
    """train.decode: device: the same frames, crop boxes and flips as the CPU path, in a batch of
    JPEG bytes, decoded by torchvision in one call (here on the CPU, nvJPEG on a GPU): within 45 dB
    PSNR of simplejpeg's pixels. A raw cache has no JPEG to send: refused naming the shard."""
    from torch.utils.data import default_collate

    from zsar.data.jpeg import collate, decode_clips

    write(tmp_path / "s.h5", {"a": smooth_video(n=12, seed=1), "b": smooth_video(n=12, seed=2)})
    videos = pd.DataFrame({"shard_path": [str(tmp_path / "s.h5")] * 2, "video_id": ["a", "b"], "label": ["x", "x"]})
    kw = {"length": 4, "stride": 2, "crop": 32, "seed": 3}
    plain, encoded = TrainClips(videos, {"x": 0}, **kw), TrainClips(videos, {"x": 0}, encoded=True, **kw)
    for epoch in (1, 2):
        plain.set_epoch(epoch)
        encoded.set_epoch(epoch)
        a, b = default_collate([plain[0], plain[1]]), collate([encoded[0], encoded[1]])
        assert b["jpeg"].numel() < a["clips"].numel() / 2  # whole frames as JPEG, against crops as pixels
        clips = decode_clips(b, torch.device("cpu"))
        assert set(b) == {"flip", "label"} and torch.equal(a["flip"], b["flip"])
        assert clips.shape == a["clips"].shape and clips.dtype == torch.uint8
        with np.errstate(divide="ignore"):  # the same decoder's pixels: no error at all
            assert psnr(clips.numpy(), a["clips"].numpy()) >= 45
    write(tmp_path / "raw.h5", {"a": smooth_video(n=12)}, codec="raw")
    raw = TrainClips(videos.assign(shard_path=str(tmp_path / "raw.h5")).iloc[:1], {"x": 0}, encoded=True, **kw)
    with pytest.raises(ValueError, match=r"raw.h5 stores raw frames, not JPEG: .* set train.decode: cpu"):
        raw[0]
