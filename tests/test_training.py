"""Training both methods: resume after SIGKILL with the same weights, and several processes (DDP)."""

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from zsar.data.cache import cached_videos
from zsar.data.decode import decode_shard
from zsar.data.index import index_videos
from zsar.data.layouts import read_annotations_csv
from zsar.data.synthetic import render_dataset

CLASSES = [("ball falling", "ball", "falling"), ("box spinning", "box", "spinning"), ("ring growing", "ring", "growing")]
RUNNER = "import pickle, sys; from zsar.models.training import train; train(**pickle.load(open(sys.argv[1], 'rb')))"


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    manifest = {"id": "mini", "classes": [{"name": n, "object": o, "motion": m} for n, o, m in CLASSES]}
    render_dataset(manifest, root, {"train": 8, "val": 2}, seed=0, frames=12, size=32, fps=8)
    table = read_annotations_csv(root)
    decode_shard(index_videos(table, root, n_shards=1), root, 0, root / "clips.h5", short_side=32)
    return cached_videos([root / "clips.h5"]).merge(table[["video_id", "split"]], on="video_id")


MODELS = {"e2e": {"arch": "r2plus1d", "widths": [4, 8], "layers": [1, 1], "dropout": 0.2},
          "rest": {"preset": "tiny"},
          "jigsaw": {"preset": "tiny", "widths": [4, 8], "layers": [1, 1], "d": 8}}
TRAINING = {"e2e": {"epochs": 10, "batch_size": 4, "lr": 1e-3, "lr_milestones": [4]},
            # a warm-up of 2 epochs, then 4 of joint training
            "rest": {"warmup_epochs": 2, "epochs": 4, "batch_size": 4, "warmup_lr": 0.05, "lr": 1e-3},
            "jigsaw": {"epochs": 6, "batch_size": 4, "optimizer": "adam", "lr": 1e-3}}
# Atomic actions of the three classes: "move object" is shared by two of them.
PHRASES = {"class": ["ball falling", "ball falling", "box spinning", "box spinning", "ring growing"],
           "phrase": ["drop ball", "move object", "spin box", "move object", "enlarge ring"],
           "atomic_id": np.array([0, 1, 3, 1, 2]),
           "embeddings": np.random.default_rng(0).normal(size=(5, 16)).astype(np.float32)}


def arguments(videos, out, method="e2e", **train):
    return {
        "method": method,
        "train_videos": videos[videos["split"] == "train"], "val_videos": videos[videos["split"] == "val"],
        "class_names": [c[0] for c in CLASSES],
        "semantics": {"class_vectors": np.eye(3, 8, dtype=np.float32), "class_tokens": [c[0].split() for c in CLASSES],
                      "class_phrases": PHRASES},
        "model_cfg": MODELS[method], "train_cfg": {**TRAINING[method], **train},
        "sampling": {"frames": 4, "stride": 2, "crop": 28, "test_clips": 2},
        "seed": 0, "threads": 1, "model_path": out / "model.pt", "history_path": out / "history.csv",
        "checkpoint_path": out / "checkpoint.pt",
    }


def train(args, out):
    (out / "args.pkl").write_bytes(pickle.dumps(args))
    return subprocess.Popen([sys.executable, "-c", RUNNER, str(out / "args.pkl")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("method,processes", [("e2e", 1), ("rest", 1), ("jigsaw", 1), ("e2e", 2)])
def test_a_job_killed_with_sigkill_resumes_and_ends_with_the_same_weights(videos, tmp_path, method, processes):
    """With 2 processes (gloo) the launcher is killed: its training processes die with it."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir()
    killed.mkdir()
    settings = {"processes": processes}
    assert train(arguments(videos, straight, method, **settings), straight).communicate()
    assert (straight / "model.pt").exists()

    process = train(arguments(videos, killed, method, **settings), killed)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        checkpoint = killed / "checkpoint.pt"
        if checkpoint.exists() and torch.load(checkpoint, weights_only=True)["epoch"] >= 2:
            break
        time.sleep(0.02)
    workers = children(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert not (killed / "model.pt").exists(), "training finished before it could be killed"
    assert len(workers) >= processes - 1
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert time.monotonic() < deadline, "a training process outlived its launcher"

    resumed = train(arguments(videos, killed, method, **settings), killed)
    log, _ = resumed.communicate()
    assert resumed.returncode == 0 and "resuming from" in log and "after epoch 1\n" not in log
    a = torch.load(straight / "model.pt", weights_only=True)
    b = torch.load(killed / "model.pt", weights_only=True)
    assert a["epoch"] == b["epoch"]
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    strip = lambda text: [line.rsplit(",", 1)[0] for line in text.splitlines()]  # all but the seconds
    assert strip((straight / "history.csv").read_text()) == strip((killed / "history.csv").read_text())
    assert not (killed / "checkpoint.pt").exists()


def test_a_checkpoint_from_other_settings_is_not_resumed(videos, tmp_path):
    from zsar.models.training import train

    messages = []
    train(**arguments(videos, tmp_path, epochs=1) | {"log": messages.append})
    args = arguments(videos, tmp_path, epochs=2)
    torch.save({"fingerprint": "another run", "epoch": 1}, args["checkpoint_path"])
    train(**args | {"log": messages.append})
    assert any("written with other inputs, settings or process count: starting afresh" in m for m in messages)


def test_rest_warms_up_the_frame_encoder_then_trains_jointly_and_keeps_a_joint_epoch(videos, tmp_path):
    from zsar.models.extract import load_model
    from zsar.models.training import train

    train(**arguments(videos, tmp_path, "rest") | {"log": lambda m: None})
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["phase"].tolist() == ["warmup"] * 2 + ["joint"] * 4
    warmup, joint = history[history["phase"] == "warmup"], history[history["phase"] == "joint"]
    # Each phase starts at its own learning rate and follows its own cosine down.
    assert warmup["lr"].iloc[0] == 0.05 and joint["lr"].iloc[0] == 1e-3
    assert joint["lr"].is_monotonic_decreasing and warmup["lr"].is_monotonic_decreasing
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert saved["method"] == "rest" and saved["epoch"] in joint["epoch"].tolist()
    assert saved["vocabulary"] == sorted({w for name, _, _ in CLASSES for w in name.split()})
    model = load_model(tmp_path / "model.pt")
    assert model.embed(torch.zeros(2, 5, 3, 4, 28, 28)).shape == (2, model.embed_dim)


def test_rest_ablation_switches_train_validate_and_reload(videos, tmp_path, monkeypatch):
    """Separate encoders with a GRU, an R(2+1)D frame encoder and the masked token loss alone: joint
    epochs validate through the masked token head, and the model reloads with its switches."""
    from zsar.methods.rest.model import ResT
    from zsar.models.extract import load_model
    from zsar.models.training import train

    calls = []
    word_scores = ResT.word_scores
    monkeypatch.setattr(ResT, "word_scores", lambda *a: calls.append(1) or word_scores(*a))
    args = arguments(videos, tmp_path, "rest", cls_weight=0, warmup_epochs=1, epochs=2)
    args["model_cfg"] = {"preset": "tiny", "attention": "cross", "temporal": "gru", "backbone": "r2plus1d"}
    train(**args | {"log": lambda m: None})
    joint = pd.read_csv(tmp_path / "history.csv").query("phase == 'joint'")
    assert joint["val_top1"].between(0, 1).all() and calls  # validated by the word head
    model = load_model(tmp_path / "model.pt")
    assert isinstance(model, ResT) and isinstance(model.video_encoder, torch.nn.GRU) and model.backbone == "r2plus1d"
    assert model.embed(torch.zeros(2, 3, 3, 4, 28, 28)).shape == (2, model.embed_dim)


def test_two_processes_train_with_ddp_on_the_cpu_each_on_half_of_every_epoch(videos, tmp_path):
    """gloo, 2 processes: each epoch covers every training video once between them, and a second
    run with the same seed gives the same weights."""
    from zsar.models.training import train

    n_train = int((videos["split"] == "train").sum())
    assert n_train % 2 == 0  # so DistributedSampler pads nothing
    finals = []
    for name in ("a", "b"):
        out = tmp_path / name
        out.mkdir()
        train(**arguments(videos, out, epochs=3, processes=2) | {"log": lambda m: None})
        history = pd.read_csv(out / "history.csv")
        assert history["clips"].tolist() == [n_train] * 3
        assert history["val_top1"].notna().all()
        finals.append(torch.load(out / "model.pt", weights_only=True)["state_dict"])
    assert all(torch.equal(finals[0][k], finals[1][k]) for k in finals[0])


def test_per_clip_embeddings_average_to_the_video_embedding(videos, tmp_path):
    from zsar.methods.e2e.model import create_e2e_model
    from zsar.models.extract import embed_videos
    from zsar.zeroshot.features import merge_features, read_features, write_features

    torch.manual_seed(0)
    model = create_e2e_model("r2plus1d", 8, widths=[4, 8], layers=[1, 1])
    kw = {"length": 4, "stride": 2, "crop": 28, "n_clips": 3}
    mean = embed_videos(model, videos, **kw)
    again, clips = embed_videos(model, videos, per_clip=True, **kw)
    assert clips.shape == (len(videos), 3, 8) and np.array_equal(mean, again)
    assert np.allclose(clips.mean(axis=1), mean, atol=1e-6)
    half = len(videos) // 2
    for k, part in enumerate((slice(0, half), slice(half, None))):
        write_features(tmp_path / f"{k}.h5", videos["video_id"][part], videos["label"][part], mean[part], "abc",
                       clips[part])
    assert merge_features([tmp_path / "0.h5", tmp_path / "1.h5"], tmp_path / "all.h5") == len(videos)
    merged, embeddings = read_features(tmp_path / "all.h5")
    assert merged["video_id"].tolist() == videos["video_id"].tolist() and np.array_equal(embeddings, mean)


def test_jigsaw_fills_its_memory_and_its_model_embeds_segments_and_projects_phrases(videos, tmp_path):
    from zsar.models.extract import load_model, project_phrases
    from zsar.models.training import train

    train(**arguments(videos, tmp_path, "jigsaw", epochs=2) | {"log": lambda m: None})
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert saved["method"] == "jigsaw" and saved["n_atomic"] == 4 and saved["text_dim"] == 16
    # The memory holds a visual feature for an atomic action of every class (the one its segments chose).
    filled = saved["state_dict"]["memory.features"].norm(dim=1) > 0
    for name in set(PHRASES["class"]):  # (the atomic ids are already 0..3, so the memory's rows)
        assert any(filled[a] for c, a in zip(PHRASES["class"], PHRASES["atomic_id"]) if c == name)
    model = load_model(tmp_path / "model.pt")
    assert model.embed(torch.zeros(2, 5, 3, 4, 28, 28)).shape == (2, 2 * 8)  # 2 segments of d = 8
    projected = project_phrases(tmp_path / "model.pt", PHRASES["embeddings"])
    assert projected.shape == (5, 8) and np.allclose(np.linalg.norm(projected, axis=1), 1, atol=1e-5)


def test_jigsaw_trains_its_text_encoders_last_layer_and_its_object_branch(videos, tmp_path):
    """model.text_layers: the top layer starts as the pretrained one and trains; model.objects: the
    videos' object vectors go through the loader, validation and extraction."""
    from zsar.models.extract import embed_videos, load_model, project_phrases
    from zsar.models.training import train
    from zsar.semantics.embedding import embed_phrases, load_sentence_model
    from zsar.semantics.objects import VideoObjects, write_video_objects
    from zsar.semantics.text_encoder import cut_encoder, hf_to_top

    encoder = load_sentence_model()
    cut = cut_encoder(PHRASES["phrase"], {"kind": "minilm"}, 1, encoder)
    phrases = {**PHRASES, "embeddings": embed_phrases(PHRASES["phrase"], {"kind": "minilm"}, encoder),
               "states": cut["states"], "mask": cut["mask"], "text_top": cut["config"], "text_weights": cut["weights"]}
    # Every video but the first of each class has an object: its class's, one name each.
    names = ["ball", "box", "ring"]
    with_objects = [v for v in videos["video_id"] if not v.endswith("_000")]
    objects = VideoObjects(names, embed_phrases(names, {"kind": "minilm"}, encoder), with_objects,
                           np.arange(len(with_objects) + 1), np.array([names.index(v.split("_")[0]) for v in with_objects]))
    args = arguments(videos, tmp_path, "jigsaw", epochs=2, text_lr=1e-3)
    args["semantics"]["class_phrases"] = phrases
    args["model_cfg"] = {**args["model_cfg"], "text_layers": 1, "objects": True}
    write_video_objects(tmp_path / "objects.h5", objects, "minilm", {"kind": "minilm"}, {})
    train(**args | {"video_files": {"objects": tmp_path / "objects.h5"}, "log": lambda m: None})

    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert saved["text_top"]["layers"] == 1 and saved["model_cfg"]["objects"] is True
    pretrained = hf_to_top(cut["weights"])
    trained = {k[len("text_top."):]: v for k, v in saved["state_dict"].items() if k.startswith("text_top.")}
    assert trained.keys() == pretrained.keys()
    assert not torch.allclose(trained["layers.0.up.weight"], pretrained["layers.0.up.weight"])
    model = load_model(tmp_path / "model.pt")
    embedded = embed_videos(model, videos.head(4), length=4, stride=2, crop=28, n_clips=2, video_side=objects)
    assert embedded.shape == (4, 3 * 8)
    assert np.abs(embedded[0, 16:]).sum() == 0 and np.abs(embedded[1, 16:]).sum() > 0  # video _000 has none
    projected = project_phrases(tmp_path / "model.pt", phrases["embeddings"], phrases)
    assert projected.shape == (5, 8) and np.allclose(np.linalg.norm(projected, axis=1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="needs the phrases' states"):
        project_phrases(tmp_path / "model.pt", phrases["embeddings"])


def test_objects_of_other_videos_than_the_training_ones_are_an_error(videos, tmp_path):
    from zsar.models.training import train
    from zsar.semantics.objects import VideoObjects, write_video_objects

    objects = VideoObjects(["ball"], np.ones((1, 16), np.float32), ["x1"], np.array([0, 1]), np.array([0]))
    write_video_objects(tmp_path / "objects.h5", objects, "minilm", {"kind": "minilm"}, {})
    args = arguments(videos, tmp_path, "jigsaw", epochs=1)
    args["model_cfg"] = {**args["model_cfg"], "objects": True}
    with pytest.raises(ValueError, match=r"none of the 24 training videos has objects in the objects file "
                                         r"\(first: '.+'; the file's first: 'x1'\)"):
        train(**args | {"video_files": {"objects": tmp_path / "objects.h5"}, "log": lambda m: None})
    with pytest.raises(ValueError, match="method 'jigsaw' with these settings reads objects per video, but was "
                                         "given none"):
        train(**args | {"log": lambda m: None})
    assert not (tmp_path / "model.pt").exists()


@pytest.mark.parametrize("method", ["e2e", "rest", "jigsaw"])
def test_history_records_the_training_top1_of_every_phase(videos, tmp_path, method):
    """The per-epoch training top-1 (ResT: of the warm-up's frame classifier, then of its classifier)
    is recorded in every phase and rises over the kept phase on these three easy classes; a ResT on
    the masked token loss alone leaves it empty."""
    from zsar.models.training import train

    train(**arguments(videos, tmp_path, method) | {"log": lambda m: None})
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["train_top1"].between(0, 1).all()
    kept = history[history["phase"] == history["phase"].iloc[-1]]["train_top1"]
    assert kept.iloc[-1] > kept.iloc[0], history
    if method == "rest":
        train(**arguments(videos, tmp_path / "mlm", method, cls_weight=0) | {"log": lambda m: None})
        joint = pd.read_csv(tmp_path / "mlm/history.csv").query("phase == 'joint'")
        assert joint["train_top1"].isna().all() and joint["val_top1"].notna().all()


def test_a_source_in_more_shards_than_the_window_trains_in_shard_runs(videos, tmp_path, monkeypatch):
    """train.shard_window: a source cached in more shards than the window is read in ShardRuns' order,
    one new order per epoch; train.open_shards bounds each loader's open files."""
    import shutil

    from zsar.data import clips
    from zsar.models import training

    second = tmp_path / "clips2.h5"  # the same videos in a second shard file: half of them read from it
    shutil.copy(videos["shard_path"].iloc[0], second)
    split = videos.assign(shard_path=[p if k % 2 else str(second) for k, p in enumerate(videos["shard_path"])])
    epochs = []

    class Counting(clips.ShardRuns):
        def set_epoch(self, epoch):
            epochs.append(epoch)
            super().set_epoch(epoch)

    monkeypatch.setattr(training, "ShardRuns", Counting)
    training.train(**arguments(split, tmp_path, "e2e", epochs=2, shard_window=1, open_shards=1) | {"log": lambda m: None})
    assert epochs == [1, 2] and (tmp_path / "model.pt").exists()
    epochs.clear()
    training.train(**arguments(split, tmp_path, "e2e", epochs=2, shard_window=2) | {"log": lambda m: None})
    assert epochs == []  # two shards fit one window: a plain shuffle


def test_decoding_in_threads_trains_the_same_weights_as_the_loader(videos, tmp_path):
    """train.decode_threads gives the loop the same batches as the DataLoader, so the same model;
    with train.workers too it is refused."""
    from zsar.methods import resolve
    from zsar.models.training import train as train_now

    for name, extra in (("loader", {}), ("threads", {"decode_threads": 2})):
        (tmp_path / name).mkdir()
        train_now(**arguments(videos, tmp_path / name, "e2e", epochs=2, **extra) | {"log": lambda m: None})
    loader, threads = (torch.load(tmp_path / n / "model.pt", weights_only=True)["state_dict"] for n in ("loader", "threads"))
    assert all(torch.equal(loader[k], threads[k]) for k in loader)
    with pytest.raises(ValueError, match=r"train.decode_threads \(2\) and train.workers \(2\): .*set one of them to 0"):
        resolve("e2e", {}, {"decode_threads": 2, "workers": 2})


def rule_files(videos, folder: Path, **train_settings) -> tuple[dict, dict, dict]:
    """train_model's inputs, params and outputs for E2E on `videos`, as files (zsar.models.launch)."""
    from zsar.semantics.embedding import ClassEmbedding, write_class_embedding

    folder.mkdir()
    names = [c[0] for c in CLASSES]
    videos.to_parquet(folder / "clips.parquet")
    pd.DataFrame({"source_class": names, "kept": True}).to_csv(folder / "overlap.tsv", sep="\t", index=False)
    write_class_embedding(folder / "vectors.h5", ClassEmbedding(names, [n.split() for n in names], np.eye(3, 8)),
                          "toy", {})
    args = arguments(videos, folder, "e2e", epochs=3, **train_settings)
    inputs = {"clips": str(folder / "clips.parquet"), "overlap": str(folder / "overlap.tsv"),
              "vectors": str(folder / "vectors.h5")}
    params = {"method": "e2e", "model": args["model_cfg"], "train": args["train_cfg"], "sampling": args["sampling"],
              "seed": 0, "class_side": [], "video_side": [], "checkpoint": str(folder / "checkpoint.pt")}
    return inputs, params, {"model": str(folder / "model.pt"), "history": str(folder / "history.csv")}


def test_two_nodes_meet_at_the_first_and_train_as_two_processes_on_one_node(videos, tmp_path):
    """Each node's launcher (python -m zsar.models.launch, as srun starts it on every node of a SLURM
    job) reads the rule's files and starts its processes; with static ranks, 2 nodes x 1 process
    end with the weights of 1 node x 2 processes."""
    from zsar.io import write_json
    from zsar.models.launch import srun_command, train_from_files
    from zsar.models.training import free_port

    inputs, params, outputs = rule_files(videos, tmp_path / "one", processes=2)
    train_from_files(inputs, params, outputs, threads=2)

    inputs, params, outputs = rule_files(videos, tmp_path / "two", processes=1, nodes=2)
    spec = tmp_path / "two" / "launch.json"
    write_json(spec, {"inputs": inputs, "params": params, "outputs": outputs, "threads": 1,
                      "address": "127.0.0.1", "port": free_port(), "run_id": "test"})
    command = srun_command(spec, 2, sys.executable)
    assert command[:6] == ["srun", "--overlap", "--nodes=2", "--ntasks=2", "--ntasks-per-node=1", "--kill-on-bad-exit=1"]
    nodes = [subprocess.Popen([*command[6:], "--node-rank", str(rank)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for rank in (0, 1)]
    logs = [node.communicate(timeout=300)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], logs
    assert "training in 2 processes, 1 on each of 2 node(s)" in logs[0]
    one = torch.load(tmp_path / "one" / "model.pt", weights_only=True)["state_dict"]
    two = torch.load(tmp_path / "two" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(one[k], two[k]) for k in one)
    assert pd.read_csv(tmp_path / "two" / "history.csv")["clips"].tolist() == [int((videos["split"] == "train").sum())] * 3


def test_a_run_on_several_nodes_outside_slurm_is_refused_saying_how_to_run_it(videos, tmp_path, monkeypatch):
    from zsar.models.launch import launch_on_nodes

    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    inputs, params, outputs = rule_files(videos, tmp_path / "run", nodes=2)
    with pytest.raises(RuntimeError, match="train.nodes is 2: a run on several nodes trains in a SLURM job"):
        launch_on_nodes(inputs, params, outputs, 2, 2, tmp_path / "run" / "launch.json")
    assert not (tmp_path / "run" / "launch.json").exists()


def test_the_step_resolves_its_precision_and_layout_from_the_device(monkeypatch):
    from zsar.models.training import DeviceStep

    cpu, gpu = torch.device("cpu"), torch.device("cuda", 0)  # no GPU needed to resolve for one
    assert (DeviceStep.of(cpu, {}).precision, DeviceStep.of(cpu, {}).channels_last) == ("fp32", False)
    for bf16, expected in ((True, "bf16"), (False, "fp16")):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True, ok=bf16: ok)
        how = DeviceStep.of(gpu, {})
        assert (how.precision, how.channels_last, how.deterministic, how.compile) == (expected, True, True, None)
    for precision, scaled in (("fp16", True), ("fp32", False)):  # float16 alone needs a scaler
        assert DeviceStep.of(cpu, {"precision": precision}).scaler().is_enabled() == scaled
    with pytest.raises(ValueError, match="train.precision bf16 on the CPU: .* NaN"):
        DeviceStep.of(cpu, {"precision": "bf16"})
    how = DeviceStep.of(gpu, {"precision": "fp32", "channels_last": False, "compile": True, "deterministic": False})
    assert (how.precision, how.channels_last, how.compile, how.deterministic) == ("fp32", False, "inductor", False)


def test_mixed_precision_channels_last_a_compiled_step_and_jpeg_decoded_there_train_on_the_cpu(videos, tmp_path):
    """The GPU's step settings run on the CPU too: float16 autocast with the gradient scaler,
    channels-last 3-d weights and inputs, cuDNN's benchmark setting, torch.compile (aot_eager here,
    inductor's code generation taking half a minute), and the clips sent as JPEG, decoded in the
    step (from decoding threads); each epoch's loss finite and the weights kept in float32."""
    from zsar.models.extract import load_model
    from zsar.models.training import train

    said = []
    fast = {"precision": "fp16", "channels_last": True, "deterministic": False, "compile": "aot_eager",
            "decode": "device", "decode_threads": 2}
    train(**arguments(videos, tmp_path, epochs=2, **fast) | {"log": said.append})
    assert "on the CPU: fp16, channels-last, cuDNN benchmark, compiled (aot_eager), JPEG decoded there" in said
    history = pd.read_csv(tmp_path / "history.csv")
    assert len(history) == 2 and np.isfinite(history["train_loss"]).all()
    saved = torch.load(tmp_path / "model.pt", weights_only=True)["state_dict"]
    assert all(v.dtype == torch.float32 for v in saved.values() if v.is_floating_point())
    assert load_model(tmp_path / "model.pt").embed(torch.zeros(2, 3, 4, 28, 28)).shape == (2, 8)


def test_extraction_batches_shrink_to_half_the_jobs_memory_and_embed_the_same(videos):
    """At Kinetics' 25 test clips, 8 GB jobs keep 16 videos a batch at 16 x 112² on a GPU, 6 at 224
    (4 on the CPU); a batch of any size embeds the same."""
    from zsar.methods.e2e.model import create_e2e_model
    from zsar.models.extract import batch_within, embed_videos

    clip = {"n_clips": 25, "frames": 16, "workers": 2}
    assert batch_within(8000, 16, crop=112, cuda=True, **clip) == 16
    assert batch_within(8000, 16, crop=224, cuda=True, **clip) == 6
    assert batch_within(8000, 16, crop=224, cuda=False, **clip) == 4
    assert batch_within(100, 16, crop=224, cuda=True, **clip) == 1  # never none
    torch.manual_seed(0)
    model = create_e2e_model("r2plus1d", 8, widths=[4, 8], layers=[1, 1])
    kw = {"length": 4, "stride": 2, "crop": 28, "n_clips": 3}
    assert np.allclose(embed_videos(model, videos, batch_size=1, **kw), embed_videos(model, videos, batch_size=7, **kw),
                       atol=1e-6)
