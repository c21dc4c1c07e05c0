"""The CLIP family through open_clip: the user's checkpoint by path, checked when the DAG is built,
class prompts through the text tower, videos through the image tower, zero-shot through the DAG."""

import json

import numpy as np
import pytest
import torch

from conftest import snakemake, tiny_config, write_config
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


def test_zero_shot_clip_and_vifi_clip_run_through_the_dag_on_the_synthetic_world(tiny_checkpoint, tiny_run_copy):
    """The class prompts through the text tower, the overlap filter, a zero-shot model of no epoch
    (the checkpoint's image tower) and a fine-tuned one (both towers), extraction, the target's
    prompts through the fine-tuned text tower, and scoring (on the built tiny run: its clip cache)."""
    tmp_path = tiny_run_copy
    config = clip_config(tiny_checkpoint)
    config["runs"]["vifi_synthetic"] = {**config["runs"]["clip_synthetic"], "method": "vificlip",
                                        "sampling": {"frames": 2, "stride": 2, "crop": 32, "test_clips": 1},
                                        "train": {"epochs": 2, "batch_size": 8, "lr": 1e-4}}
    write_config(tmp_path / "config.yaml", config)
    snakemake(tmp_path, "results/clip_synthetic/synthetic_0_50.json", "results/vifi_synthetic/synthetic_0_50.json")
    tuned = json.loads((tmp_path / "results/vifi_synthetic/synthetic_0_50.json").read_text())
    assert 0 <= tuned["prompts"]["top1"]["mean"] <= 1 and "e2e" not in tuned
    history = (tmp_path / "models/vifi_synthetic/history.csv").read_text().splitlines()
    assert len(history) == 3  # the header and 2 epochs
    tuned_state = torch.load(tmp_path / "models/vifi_synthetic/model.pt", weights_only=True)["state_dict"]
    original = torch.load(tiny_checkpoint, weights_only=True)
    for tower in ("clip.visual.conv1.weight", "clip.token_embedding.weight"):  # both towers trained
        assert not torch.equal(tuned_state[tower], original[tower.removeprefix("clip.")]), tower
    result = json.loads((tmp_path / "results/clip_synthetic/synthetic_0_50.json").read_text())
    assert result["n_splits"] == 3 and 0 <= result["e2e"]["top1"]["mean"] <= 1
    info = json.loads((tmp_path / "models/clip_synthetic/model.json").read_text())
    assert info["method"] == "clip" and info["epoch"] == 0 and info["model_cfg"]["arch"] == "zsar-tiny"
    saved = torch.load(tmp_path / "models/clip_synthetic/model.pt", weights_only=True)["state_dict"]
    original = torch.load(tiny_checkpoint, weights_only=True)
    assert all(torch.equal(saved[k], original[f"visual.{k.removeprefix('visual.')}"]) for k in saved)
    again = snakemake(tmp_path, "results/clip_synthetic/synthetic_0_50.json", "results/vifi_synthetic/synthetic_0_50.json",
                      "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
