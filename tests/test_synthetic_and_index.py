import numpy as np

from zsar.data.cache import cached_videos
from zsar.data import video
from zsar.data.decode import decode_shard
from zsar.data.index import index_videos
from zsar.data.layouts import read_annotations_csv
from zsar.data.synthetic import MOTIONS, OBJECTS, render_dataset, render_frames

MANIFEST = {"id": "mini", "classes": [{"name": "ball falling", "object": "ball", "motion": "falling"},
                                      {"name": "box spinning", "object": "box", "motion": "spinning"}]}


def render(root, seed=0):
    return render_dataset(MANIFEST, root, {"train": 2}, seed=seed, frames=8, size=32, fps=8)


def test_same_seed_same_bytes_other_seed_other_videos(tmp_path):
    # Several renders in one process: x264 once gave different bytes on repeated encodes.
    for copy in "abcde":
        render(tmp_path / copy)
    render(tmp_path / "other", seed=1)
    videos = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.mp4"))
    assert len(videos) == 4
    for video in videos:
        assert len({(tmp_path / copy / video).read_bytes() for copy in "abcde"}) == 1, video
        assert (tmp_path / "a" / video).read_bytes() != (tmp_path / "other" / video).read_bytes()
    assert (tmp_path / "a/annotations.csv").read_text() == (tmp_path / "b/annotations.csv").read_text()


def test_every_object_and_motion_draws_something_that_moves():
    for obj in OBJECTS:
        for motion in MOTIONS:
            frames = render_frames(obj, motion, 12, 32, np.random.default_rng(0)).astype(int)
            assert np.abs(np.diff(frames, axis=0)).sum() > 0, (obj, motion)


def test_index_reports_a_truncated_video_and_decoding_goes_on(tmp_path):
    render(tmp_path)
    broken = tmp_path / "videos/box_spinning/box_spinning_train_001.mp4"
    broken.write_bytes(broken.read_bytes()[: len(broken.read_bytes()) // 3])
    annotations = read_annotations_csv(tmp_path)
    annotations.loc[len(annotations)] = ["escape", "../outside.mp4", "ball falling", "train", "annotations.csv", 99]
    index = index_videos(annotations, tmp_path, n_shards=2)

    by_id = index.set_index("video_id")
    assert not by_id.loc["box_spinning_train_001", "decodable"]
    assert by_id.loc["box_spinning_train_001", "problem"].startswith(f"{video.DEFAULT}: ")
    assert by_id.loc["escape", "problem"].startswith("path leaves the dataset root")
    good = by_id[by_id["decodable"]]
    assert len(good) == 3 and (good["frames"] == 8).all() and (good["width"] == 32).all()
    assert sorted(index["shard"].unique()) == [0, 1]

    for shard in (0, 1):
        decode_shard(index, tmp_path, shard, tmp_path / f"clips/{shard}.h5", short_side=16)
    cached = cached_videos([tmp_path / "clips/0.h5", tmp_path / "clips/1.h5"])
    assert sorted(cached["video_id"]) == sorted(good.index)


def test_a_class_of_two_motions_shows_them_in_turn():
    from zsar.data.synthetic import motion_path, trajectory

    path = motion_path(["falling", "spinning"], 24, np.random.default_rng(0))
    assert all(len(v) == 24 for v in path.values())
    assert np.all(np.diff(path["y"][:12]) > 0) and np.ptp(path["angle"][:12]) == 0   # falls, does not turn
    assert np.ptp(path["y"][12:]) == 0 and np.ptp(path["angle"][12:]) > 1           # then turns in place
    # One motion draws exactly as before sequences existed.
    single = motion_path("falling", 24, np.random.default_rng(3))
    assert all(np.array_equal(single[k], trajectory("falling", 24, np.random.default_rng(3))[k]) for k in single)
