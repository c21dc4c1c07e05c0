"""Training that survives SIGKILL: resume from the last checkpoint, same weights as without a kill."""

import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from zsar.clips import decode_shard, shard_videos
from zsar.index import index_videos
from zsar.layouts import read_annotations_csv
from zsar.synthetic import render_dataset

CLASSES = [("ball falling", "ball", "falling"), ("box spinning", "box", "spinning"), ("ring growing", "ring", "growing")]
RUNNER = "import pickle, sys; from zsar.training import train_e2e; train_e2e(**pickle.load(open(sys.argv[1], 'rb')))"


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    manifest = {"id": "mini", "classes": [{"name": n, "object": o, "motion": m} for n, o, m in CLASSES]}
    render_dataset(manifest, root, {"train": 8, "val": 2}, seed=0, frames=12, size=32, fps=8)
    table = read_annotations_csv(root)
    decode_shard(index_videos(table, root, n_shards=1), root, 0, root / "clips.h5", short_side=32)
    return shard_videos([root / "clips.h5"]).merge(table[["video_id", "split"]], on="video_id")


def arguments(videos, out, **train):
    return {
        "train_videos": videos[videos["split"] == "train"], "val_videos": videos[videos["split"] == "val"],
        "class_names": [c[0] for c in CLASSES], "class_vectors": np.eye(3, 8, dtype=np.float32),
        "model_cfg": {"arch": "r2plus1d", "widths": [4, 8], "layers": [1, 1], "dropout": 0.2},
        "train_cfg": {"epochs": 10, "batch_size": 4, "lr": 1e-3, "weight_decay": 0.0, "lr_milestones": [4],
                      "workers": 0, **train},
        "clip_cfg": {"frames": 4, "stride": 2, "crop": 28, "test_clips": 2},
        "seed": 0, "threads": 1, "model_path": out / "model.pt", "history_path": out / "history.csv",
        "checkpoint_path": out / "checkpoint.pt",
    }


def train(args, out):
    (out / "args.pkl").write_bytes(pickle.dumps(args))
    return subprocess.Popen([sys.executable, "-c", RUNNER, str(out / "args.pkl")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_a_job_killed_with_sigkill_resumes_and_ends_with_the_same_weights(videos, tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir()
    killed.mkdir()
    assert train(arguments(videos, straight), straight).communicate() and (straight / "model.pt").exists()

    process = train(arguments(videos, killed), killed)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        checkpoint = killed / "checkpoint.pt"
        if checkpoint.exists() and torch.load(checkpoint, weights_only=False)["epoch"] >= 2:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert not (killed / "model.pt").exists(), "training finished before it could be killed"

    resumed = train(arguments(videos, killed), killed)
    log, _ = resumed.communicate()
    assert resumed.returncode == 0 and "resuming from" in log and "after epoch 1\n" not in log
    a = torch.load(straight / "model.pt", weights_only=False)
    b = torch.load(killed / "model.pt", weights_only=False)
    assert a["epoch"] == b["epoch"]
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    strip = lambda text: [line.rsplit(",", 1)[0] for line in text.splitlines()]  # all but the seconds
    assert strip((straight / "history.csv").read_text()) == strip((killed / "history.csv").read_text())
    assert not (killed / "checkpoint.pt").exists()


def test_a_checkpoint_from_other_settings_is_not_resumed(videos, tmp_path):
    from zsar.training import train_e2e

    messages = []
    train_e2e(**arguments(videos, tmp_path, epochs=1) | {"log": messages.append})
    args = arguments(videos, tmp_path, epochs=2)
    torch.save({"fingerprint": "another run", "epoch": 1}, args["checkpoint_path"])
    train_e2e(**args | {"log": messages.append})
    assert any("written with other inputs or settings: starting afresh" in m for m in messages)
