"""The CLIP family through open_clip: the user's checkpoint by path, checked when the DAG is built,
class prompts through the text tower, videos through the image tower, zero-shot through the DAG."""

import json

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
                                        "sampling": {"frames": 1, "stride": 1, "crop": 32, "test_clips": 3}, **run}
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
    config = clip_config(tiny_checkpoint, method="vificlip", train={"epochs": 1, "batch_size": 8, "lr": 1e-4},
                         sampling={"frames": 2, "stride": 2, "crop": 32, "test_clips": 1})
    config["embeddings"]["cliptinymatch"] = {**config["embeddings"]["cliptiny"], "templates": "kinetics"}
    config["runs"]["maxi_synthetic"] = {**config["runs"]["clip_synthetic"], "method": "maxi",
                                       "model": {"match_embedding": "cliptinymatch", "p": 0.5, "n_bag": 3}}
    write_config(tmp_path / "config.yaml", config)
    targets = ["results/clip_synthetic/synthetic_0_50.json", "results/maxi_synthetic/synthetic_0_50.json"]
    snakemake(tmp_path, *targets)
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
