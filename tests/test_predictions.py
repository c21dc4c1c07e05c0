"""Predictions for your own videos and class names: a folder of unlabelled videos, a class list, a
trained run's top-k per video, the report's page, and zsar-predict."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from conftest import copy_workflow, tiny_config
from test_plan import plan_of
from test_workflow import planned_jobs
from zsar.data.folders import read_folder
from zsar.data.layouts import LayoutError
from zsar.pipeline.plan import PlanError
from zsar.predict import PredictError, read_classes, write_manifest

NAMES = ["star blinking", "box rolling", "ring falling", "triangle bouncing", "wheel growing"]  # synthnames.yaml


def test_a_folder_lists_every_video_under_it_in_any_folders_and_names_a_missing_or_empty_one(tmp_path):
    for rel in ("a.mp4", "garden/b.MOV", "garden/deep/c.mkv", "notes.txt", ".hidden/d.mp4", "garden/.e.mp4"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    manifest = {"video_extensions": [".mp4", ".mov", ".mkv"]}
    table = read_folder(manifest, tmp_path)
    assert table[["video_id", "path", "label", "split"]].values.tolist() == [
        ["a", "a.mp4", "", "test"], ["garden__b", "garden/b.MOV", "", "test"],
        ["garden__deep__c", "garden/deep/c.mkv", "", "test"]]
    with pytest.raises(LayoutError, match="missing is not a folder: put the videos there"):
        read_folder(manifest, tmp_path / "missing")
    with pytest.raises(LayoutError, match="holds no video with one of the extensions .avi"):
        read_folder({"video_extensions": [".avi"]}, tmp_path)
    (tmp_path / "garden__b.mp4").write_bytes(b"")  # the id garden__b twice
    with pytest.raises(LayoutError, match="'garden__b.mp4' and 'garden/b.MOV' have one video id"):
        read_folder(manifest, tmp_path)


def test_a_class_list_is_a_name_a_line_or_a_tsv_with_descriptions_and_a_repeat_is_named(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("# my classes\nstar blinking\n\nbox rolling\n")
    assert read_classes(names) == [{"name": "star blinking"}, {"name": "box rolling"}]
    table = tmp_path / "names.tsv"
    table.write_text("class\tdescription\nstar blinking\thiding a star again and again\nbox rolling\t\n")
    assert read_classes(table) == [{"name": "star blinking", "description": "hiding a star again and again"},
                                   {"name": "box rolling"}]
    names.write_text("star blinking\nStar  Blinking\n")
    with pytest.raises(PredictError, match=r"names.txt line 2: class 'Star  Blinking' is listed twice \(line 1\)"):
        read_classes(names)
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: my own\n")
    with pytest.raises(PredictError, match="mine.yaml exists and was not written by zsar-predict"):
        write_manifest(mine, {"name": "x"}, "classes")
    assert mine.read_text() == "name: my own\n"


def test_a_prediction_reads_what_its_path_needs_and_refuses_a_list_without_classes_or_videos():
    plan = plan_of()
    e2e = plan.prediction_inputs("e2e_synthetic", "synthnew", "synthnames")
    assert e2e == {"features": "features/e2e_synthetic/synthnew.h5", "index": "index/synthnew.parquet",
                   "vectors": "semantic/glove50/synthnames.h5", "source_vectors": "semantic/glove50/synthkinetics.h5",
                   "model": "models/e2e_synthetic/model.json"}
    assert plan.prediction_path("rest_synthetic") == "prototypes"  # ResT scores by composed prototypes only
    rest = plan.prediction_inputs("rest_synthetic", "synthnew", "synthnames")
    assert rest["prototypes"] == "prototypes/rest_synthetic/synthnames_0_100.h5"
    assert plan.prediction_inputs("jigsaw_synthetic", "synthnew", "synthnames")["phrases"] == \
        "features/jigsaw_synthetic/synthnames_phrases.h5"
    composed = plan_of(predict={"path": "prototypes"}).prediction_inputs("e2e_synthetic", "synthnew", "ucf101")
    assert composed["prototypes"] == "prototypes/e2e_synthetic/ucf101_0_100.h5"  # a dataset's own class list
    assert plan.root("synthnew") == "data/synthetic/videos" and plan.index_inputs("synthnew")["folder"] == plan.root("synthnew")
    with pytest.raises(PlanError, match="synthnew has no classes to predict"):
        plan.prediction_inputs("e2e_synthetic", "synthetic", "synthnew")
    with pytest.raises(PlanError, match="synthnames has no videos"):
        plan.prediction_inputs("e2e_synthetic", "synthnames", "synthnames")
    with pytest.raises(PlanError, match=r"predict.path in config.yaml: 'nearest' is not a path run 'e2e_synthetic' "
                                        r"\(e2e\) labels videos by; use auto or one of e2e, prototypes"):
        plan_of(predict={"path": "nearest"}).prediction_inputs("e2e_synthetic", "synthnew", "synthnames")
    # ResT's videos do not live among the class vectors; E2E has no scorer of its own: refused when planned
    with pytest.raises(PlanError, match=r"'e2e' is not a path run 'rest_synthetic' \(rest\) labels videos by"):
        plan_of(predict={"path": "e2e"}).prediction_inputs("rest_synthetic", "synthnew", "synthnames")
    with pytest.raises(PlanError, match=r"'alignment' is not a path run 'e2e_synthetic'"):
        plan_of(predict={"path": "alignment"}).prediction_inputs("e2e_synthetic", "synthnew", "synthnames")


def test_every_methods_prediction_paths_are_scoring_paths_and_the_composed_ones_are_the_compositions():
    from zsar.methods import REGISTRY
    from zsar.zeroshot.predict_paths import COMPOSED, paths_of
    from zsar.zeroshot.prototypes import VARIANTS
    from zsar.zeroshot.scoring import PATHS

    assert set(COMPOSED) == set(VARIANTS) | {"reverse"}
    for spec in REGISTRY.values():
        assert set(paths_of(spec)) <= set(PATHS), spec.name
    assert paths_of(REGISTRY["jigsaw"], {"alignment": "one_to_one"})[0] == "alignment_one_to_one"
    assert paths_of(REGISTRY["vificlip"])[0] == "prompts" and "e2e" not in paths_of(REGISTRY["vificlip"])


@pytest.mark.workflow
def test_the_demo_labels_the_rendered_folder_with_five_new_names_and_pages_them(tiny_run):
    """The default target's prediction on the tiny world: every video labelled among the five names,
    the record, and the page with each shown video's frames."""
    table = pd.read_csv(tiny_run / "predictions/e2e_synthetic/synthnew_synthnames.csv", keep_default_na=False)
    truth = pd.read_csv(tiny_run / "data/synthetic/annotations.csv")
    assert len(table) == len(truth) and (table["problem"] == "").all()
    assert set(table["class_1"]) <= set(NAMES) and list(table.columns[3:5]) == ["class_1", "score_1"]
    assert (table["score_1"] >= table["score_2"]).all()
    record = json.loads((tiny_run / "predictions/e2e_synthetic/synthnew_synthnames.json").read_text())
    assert record["path"] == "e2e" and record["class_names"] == NAMES and record["videos_not_predicted"] == 0
    page = (tiny_run / "plots/predictions/e2e_synthetic/synthnew_synthnames.html").read_text()
    assert page.count("<img src=\"data:image/jpeg;base64,") >= 4 and all(name in page for name in NAMES)


@pytest.mark.workflow
def test_zsar_predict_labels_a_folder_of_its_own_lists_a_broken_video_and_a_second_list_reuses_it(
        tiny_run_copy, tmp_path):
    work = workflow = tiny_run_copy
    copy_workflow(workflow)  # a project folder (the command writes its manifests into data_manifest/)
    folder = tmp_path / "garden"
    rendered = pd.read_csv(work / "data/synthetic/annotations.csv")
    for k, row in enumerate(rendered[rendered["label"].isin(NAMES)].itertuples()):
        target = folder / ("evening" if k % 2 else "morning") / f"clip{k}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "data/synthetic" / row.path, target)
    (folder / "broken.mp4").write_bytes(b"not a video")
    names = tmp_path / "newnames.txt"
    names.write_text("".join(f"{name}\n" for name in NAMES))

    def predict(*args, check=True):
        result = subprocess.run([sys.executable, "-m", "zsar.predict", "e2e_synthetic", str(folder), *args,
                                 "--cores", "2"], cwd=workflow, capture_output=True, text=True)
        assert not check or result.returncode == 0, result.stdout + result.stderr
        return result

    predict(str(names))
    table = pd.read_csv(workflow / "predictions/e2e_synthetic/garden_newnames.csv", keep_default_na=False)
    assert len(table) == 11 and set(table.loc[table["problem"] == "", "class_1"]) <= set(NAMES)
    broken = table.set_index("path").loc["broken.mp4"]
    assert broken["problem"] and broken["class_1"] == ""
    assert (workflow / "data/garden").is_symlink() and "root: garden" in (workflow / "data_manifest/garden.yaml").read_text()
    assert (workflow / "plots/predictions/e2e_synthetic/garden_newnames.html").exists()

    # A second list, with descriptions: the videos' embeddings are reused, the class side alone runs.
    second = tmp_path / "other.tsv"
    second.write_text("class\tdescription\nring falling\tdropping a ring\nwheel growing\tenlarging a wheel\n")
    result = predict(str(second), "--dry-run")
    planned = planned_jobs(result)
    assert "extract_embeddings" not in planned and "train_model" not in planned and planned["predict_videos"] == 1
    # A word the run's embedding lacks stops the class side, naming the class and the word.
    odd = tmp_path / "odd.txt"
    odd.write_text("ring qwzxv\nbox zzqj falling zzqk\n")
    result = predict(str(odd), check=False)
    assert result.returncode != 0
    log = (workflow / "logs/embed_classes/glove50/odd.log").read_text()
    assert "'ring qwzxv': 'qwzxv'; 'box zzqj falling zzqk': 'zzqj', 'zzqk'" in log and "kind minilm" in log


def test_a_fine_tuned_clip_predicts_by_its_own_prompts_of_the_class_list():
    """ViFi-CLIP and MAXI label by the class list's prompts through their fine-tuned text tower; zero-shot
    CLIP by its embedding's prompts (the e2e path)."""
    config = tiny_config(embeddings={"standin": {"kind": "clip", "arch": "zsar-tiny", "checkpoint": "pretrained/s.pt"}},
                         pretrain={"s": {"arch": "zsar-tiny", "images": 10, "epochs": 1, "batch_size": 4, "lr": 0.001,
                                         "seed": 0}})
    for run, method in (("vificlip_synthetic", "vificlip"), ("clip_synthetic", "clip")):
        config["runs"][run] = {"method": method, "source": "synthkinetics", "targets": ["synthetic"],
                               "embedding": "standin", "overlap_embedding": "glove50",
                               "sampling": {"frames": 2, "stride": 1, "crop": 28, "test_clips": 1, "short_side": None}}
    plan = plan_of(config)
    tuned = plan.prediction_inputs("vificlip_synthetic", "synthnew", "synthnames")
    assert plan.prediction_path("vificlip_synthetic") == "prompts"
    assert tuned["prompts"] == "features/vificlip_synthetic/synthnames_prompts.h5"
    assert tuned["vectors"] == "semantic/standin/synthnames.h5" and tuned["overlap_vectors"] == "semantic/glove50/synthnames.h5"
    assert plan.prediction_path("clip_synthetic") == "e2e" and "prompts" not in plan.prediction_inputs(
        "clip_synthetic", "synthnew", "synthnames")
