"""The CLIP family through open_clip: the user's checkpoint by path, checked when the DAG is built,
class prompts through the text tower, videos through the image tower, zero-shot through the DAG."""

import json

import h5py
import numpy as np
import pytest
import torch

from conftest import snakemake, tiny_config, write_config
from test_training import arguments, videos  # noqa: F401  (videos: the synthetic world, a fixture)
from zsar.models.clip import create


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """zsar-tiny's weights as open_clip's own state_dict writes them."""
    path = tmp_path_factory.mktemp("clip") / "tiny.pt"
    torch.manual_seed(0)
    torch.save(create("zsar-tiny").state_dict(), path)
    return path


def clip_config(checkpoint, arch="zsar-tiny", **run):
    config = tiny_config(embeddings={"cliptiny": {"kind": "clip", "arch": arch, "checkpoint": str(checkpoint)}})
    config["runs"]["clip_synthetic"] = {"method": "clip", "source": "synthkinetics", "targets": ["synthetic"],
                                        "embedding": "cliptiny",
                                        "sampling": {"frames": 1, "stride": 1, "crop": 32, "test_clips": 3, "short_side": None},
                                        **run}
    return config


def test_a_vit_b_16_open_clip_saved_loads_by_path_and_another_architecture_is_refused(tmp_path, monkeypatch):
    """Checked when the DAG is built, from the tensors' shapes (the file memory-mapped): the right
    architecture passes (and is not checked again), another is named, a missing file is named."""
    from test_plan import plan_of
    from zsar.pipeline.plan import PlanError

    monkeypatch.chdir(tmp_path)  # the plan keeps its record of checked files under .snakemake/
    path = tmp_path / "ViT-B-16.pt"
    torch.save(create("ViT-B-16").state_dict(), path)
    plan = plan_of(clip_config(path, arch="ViT-B-16"))
    assert plan.embedding_inputs("cliptiny") == {"checkpoint": str(path)}
    assert plan.run("clip_synthetic")["model"] == {"arch": "ViT-B-16", "checkpoint": str(path)}
    assert len(json.loads((tmp_path / ".snakemake/zsar_clip_checks.json").read_text())) == 1
    with pytest.raises(PlanError, match=r"embedding 'cliptiny' in config.yaml: .*ViT-B-16.pt is not a checkpoint of "
                                        r"ViT-B-32: its visual.positional_embedding is \(197, 768\), not \(50, 768\)"):
        plan_of(clip_config(path, arch="ViT-B-32")).embedding_inputs("cliptiny")
    with pytest.raises(PlanError, match="CLIP checkpoint not found at .*missing.pt"):
        plan_of(clip_config(tmp_path / "missing.pt")).embedding_inputs("cliptiny")
    with pytest.raises(PlanError, match="method clip embeds videos with a CLIP's image tower .* must be of kind clip"):
        plan_of(clip_config(path, arch="ViT-B-16", embedding="glove50")).run("clip_synthetic")


def test_class_prompts_go_through_the_text_tower_one_prompt_or_28_templates_ensembled(tiny_checkpoint):
    """The class name in its own words in each template, the prompts' embeddings averaged: unit rows."""
    from zsar.models.clip import embed_class_prompts, templates

    manifest = {"id": "m", "name_style": "camelcase", "classes": [{"name": "RideBike"}, {"name": "ApplyEyeMakeup"}]}
    spec = {"kind": "clip", "arch": "zsar-tiny", "checkpoint": str(tiny_checkpoint)}
    single, ensemble = embed_class_prompts(manifest, spec), embed_class_prompts(manifest, {**spec, "templates": "kinetics"})
    assert single.tokens == [["a photo of ride bike."], ["a photo of apply eye makeup."]]
    assert len(templates("kinetics")) == 28 and len(ensemble.tokens[1]) == 28
    assert single.vectors.shape == (2, 64) and np.allclose(np.linalg.norm(ensemble.vectors, axis=1), 1, atol=1e-5)
    assert not np.allclose(single.vectors, ensemble.vectors)


def test_zero_shot_clip_trains_no_epoch_and_keeps_the_checkpoints_image_tower(tiny_checkpoint, videos, tmp_path):
    """Its model is the checkpoint's image tower, validated once on the held-out videos (epoch 0)."""
    import pandas as pd

    from zsar.models.extract import load_model
    from zsar.models.training import train

    args = arguments(videos, tmp_path, "e2e")
    args.update(method="clip", model_cfg={"arch": "zsar-tiny", "checkpoint": str(tiny_checkpoint)}, train_cfg={},
                sampling={"frames": 1, "stride": 1, "crop": 28, "test_clips": 3}, log=lambda m: None)
    args["semantics"] = {"class_vectors": np.eye(3, 64, dtype=np.float32)}
    train(**args)
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["epoch"].tolist() == [0] and history["clips"].tolist() == [0]
    assert history["val_top1"].between(0, 1).all()
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    original = torch.load(tiny_checkpoint, weights_only=True)
    assert saved["epoch"] == 0 and all(torch.equal(v, original[k]) for k, v in saved["state_dict"].items())
    assert load_model(tmp_path / "model.pt").embed(torch.zeros(2, 3, 3, 1, 28, 28)).shape == (2, 64)


def test_vifi_clip_and_maxi_run_through_the_dag_on_the_synthetic_world(tiny_checkpoint, tiny_run_copy):
    """The class prompts through the text tower (their own rule), the overlap filter, both towers
    fine-tuned (ViFi-CLIP on labels; MAXI on the videos matched by the 28-template ensemble, their
    bags from the simulated phrases and captions), extraction, the target's prompts through the
    fine-tuned text tower, and scoring (on the built tiny run: its clip cache)."""
    tmp_path = tiny_run_copy
    # At a short side of their own (the world is cached at 32 for E2E): caches of their own, @36.
    config = clip_config(tiny_checkpoint, method="vificlip", train={"epochs": 1, "batch_size": 8, "lr": 1e-4},
                         sampling={"frames": 2, "stride": 2, "crop": 32, "test_clips": 1, "short_side": 36})
    config["embeddings"]["cliptinymatch"] = {**config["embeddings"]["cliptiny"], "templates": "kinetics"}
    config["runs"]["maxi_synthetic"] = {**config["runs"]["clip_synthetic"], "method": "maxi",
                                       "model": {"match_embedding": "cliptinymatch", "p": 0.5, "n_bag": 3}}
    write_config(tmp_path / "config.yaml", config)
    targets = ["results/clip_synthetic/synthetic_0_50.json", "results/maxi_synthetic/synthetic_0_50.json"]
    own_cache = {p: p.stat().st_mtime_ns for p in (tmp_path / "clips").rglob("*.h5")}
    snakemake(tmp_path, *targets)
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "clips").glob("synth*[a-z]/*.h5")} == own_cache
    for dataset in ("synthkinetics", "synthetic"):
        with h5py.File(tmp_path / f"clips/{dataset}@36/0.h5") as shard:
            assert shard.attrs["short_side"] == 36
    assert (tmp_path / "logs/match_videos/cliptinymatch/synthkinetics/0.log").exists()
    original = torch.load(tiny_checkpoint, weights_only=True)
    for run, target in zip(("clip_synthetic", "maxi_synthetic"), targets):
        tuned = json.loads((tmp_path / target).read_text())
        assert tuned["n_splits"] == 3 and 0 <= tuned["prompts"]["top1"]["mean"] <= 1 and "e2e" not in tuned
        tuned_state = torch.load(tmp_path / f"models/{run}/model.pt", weights_only=True)["state_dict"]
        for tower in ("clip.visual.conv1.weight", "clip.token_embedding.weight"):  # both towers trained
            assert not torch.equal(tuned_state[tower], original[tower.removeprefix("clip.")]), (run, tower)
    assert (tmp_path / "logs/embed_clip_classes/cliptiny/synthetic.log").exists()
    log = (tmp_path / "logs/train_model/maxi_synthetic.log").read_text()
    assert "matched their (unread) label" in log and "bags of" in log
    assert not list(tmp_path.glob("matches/*/synthetic*"))  # the target's videos are not matched
    again = snakemake(tmp_path, *targets, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr


def test_the_clip_family_runs_of_config_yaml_plan_on_the_official_layouts(tmp_path):
    """config.yaml's clip_b16, vificlip_k400 and maxi_k400 as they stand (the checkpoint's path and
    the language files only are the test's) on listed official layouts of Kinetics-400, UCF101, HMDB51
    and Kinetics-600's new classes: a dry run plans the 256 caches beside E2E's 128 ones (e2e_kzsar
    beside them), one matching pass and each run's training, and scores the three test lists and
    Kinetics-ZSAR's splits."""
    import yaml

    from conftest import REPO
    from test_layouts import kinetics_annotations, mp4, write_avi
    from test_workflow import planned_jobs

    checkpoint = tmp_path / "ViT-B-16.pt"
    torch.save(create("ViT-B-16").state_dict(), checkpoint)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for name in ("clipb16", "clipb16kinetics"):
        config["embeddings"][name]["checkpoint"] = str(checkpoint)
    data = tmp_path / "data"
    (data / "maxi").mkdir(parents=True)
    (data / "maxi/kinetics400_phrases.tsv").write_text("class\tphrase\nabseiling\tdescending a rock face on a rope\n")
    (data / "maxi/kinetics400_captions.tsv").write_text("video_id\tcaption\nk1\ta man climbing down a cliff\n")
    write_config(tmp_path / "config.yaml", config)

    kinetics_annotations(data / "kinetics400", [("abseiling", "k1"), ("air drumming", "k2")], [("abseiling", "k3")])
    for split, label, video in (("train", "abseiling", "k1"), ("train", "air drumming", "k2"), ("val", "abseiling", "k3")):
        mp4(data / f"kinetics400/{split}/{label}/{video}_000000_000010.mp4")
    kinetics_annotations(data / "kineticszsar", [], [("acting in play", "z1")])
    mp4(data / "kineticszsar/val/acting in play/z1_000000_000010.mp4")
    lists = data / "ucf101/ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 Archery\n")
    for k in (1, 2, 3):
        (lists / f"trainlist0{k}.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n")
        (lists / f"testlist0{k}.txt").write_text("Archery/v_Archery_g01_c01.avi\n")
    write_avi(data / "ucf101/UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi")
    write_avi(data / "ucf101/UCF-101/Archery/v_Archery_g01_c01.avi")
    splits = data / "hmdb51/testTrainMulti_7030_splits"
    splits.mkdir(parents=True)
    for k in (1, 2, 3):
        (splits / f"brush_hair_test_split{k}.txt").write_text("a.avi 1\nb.avi 2\n")
    for video in ("a", "b"):
        write_avi(data / f"hmdb51/videos/brush_hair/{video}.avi")
    datasets = ("kinetics400", "kineticszsar", "ucf101", "hmdb51")
    snakemake(tmp_path, *[f"index/{dataset}/listed.json" for dataset in datasets])

    runs = ("clip_b16", "vificlip_k400", "maxi_k400")
    targets = [f"results/{run}/{result}" for run in runs
               for result in ("ucf101_0_full.json", "hmdb51_0_full.json", "kineticszsar_60_160.json")]
    result = snakemake(tmp_path, "-n", *targets, "results/e2e_kzsar/kineticszsar_60_160.json")
    planned, text = planned_jobs(result), result.stdout + result.stderr
    assert planned["train_model"] == 4 and planned["match_videos"] == 1 and planned["parse_bags"] == 2, planned
    assert planned["extract_prompts"] == 6  # ViFi-CLIP's and MAXI's fine-tuned text towers, 3 targets each
    for cache in ("kinetics400@256", "ucf101@256", "hmdb51@256", "kineticszsar@256", "kinetics400", "kineticszsar"):
        assert f"clips/{cache}/0.h5" in text, cache  # E2E's 112 crops: each dataset's own cache, at 128
    assert "clips/ucf101/" not in text and "@128" not in text
    assert "matches/clipb16kinetics/kinetics400.h5" in text and "splits/ucf101_0_full.json" in text
    assert not (tmp_path / "clips").exists()


def test_the_fine_tunings_augmentations_treat_a_clips_frames_alike_and_leave_evaluation_alone():
    """train.augment: one draw per clip for all its frames; grey gives equal channels; values stay in
    [-1, 1]; nothing at evaluation, nothing with null (identity), the defaults on for ViFi-CLIP and MAXI."""
    from zsar.methods import resolve
    from zsar.methods.vificlip import AUGMENT
    from zsar.methods.vificlip.augment import augmentation

    torch.manual_seed(0)
    frame = torch.rand(2, 3, 1, 24, 24) * 2 - 1
    clips = frame.expand(-1, -1, 4, -1, -1).contiguous()  # 2 clips of 4 identical frames
    out = augmentation({"scales": [0.5, 0.75], "jitter": 1.0, "grey": 0.0})(clips)
    assert out.shape == clips.shape and out.min() >= -1 and out.max() <= 1 and not torch.allclose(out, clips)
    assert torch.equal(out[:, :, 1:], out[:, :, :1].expand(-1, -1, 3, -1, -1))  # every frame alike
    grey = augmentation({"grey": 1.0})(clips)
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    module = augmentation(AUGMENT)
    assert torch.equal(module.eval()(clips), clips) and torch.equal(augmentation(None)(clips), clips)
    assert resolve("vificlip", {}, {})[1]["augment"] == AUGMENT
    assert resolve("maxi", {"match_embedding": "m"}, {})[1]["augment"] == AUGMENT
