"""Ablation studies (issue 17): the study table, per-run training seeds, and a study world built in
its own working directory (rules/studies.smk, zsar/report/studies.py, studies/*.yaml)."""

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, snakemake, tiny_config, write_config
from test_workflow import planned_jobs
from zsar.report.studies import StudyError, study_table

CLASSES = [["a", "b"], ["c", "d"], ["a", "c"]]


def result(path_top1: dict, classes=CLASSES) -> dict:
    """A results JSON with only what a study reads: per split, each path's top-1 and its classes."""
    splits = [{path: {"top1": values[k], "per_class_top1": dict.fromkeys(classes[k], 0.5)}
               for path, values in path_top1.items()} for k in range(len(classes))]
    return {"splits": splits, **{path: {"top1": {"mean": float(np.mean(v))}} for path, v in path_top1.items()}}


def study(rows, reference="base", targets=("t_0_50",)):
    return {"name": "s", "targets": list(targets), "reference": reference, "rows": rows}


def test_the_table_is_the_mean_and_std_over_splits_and_the_paired_difference():
    results = {("r1", "t_0_50"): result({"e2e": [0.5, 0.6, 0.7], "prototypes": [0.4, 0.7, 0.6]})}
    rows = [{"variant": "base", "run": "r1", "path": "e2e"},
            {"variant": "proto", "run": "r1", "path": "prototypes", "table": "T8",
             "paper": {"value": 54.7, "setting": "UCF101 0/50", "source": "a paper"}}]
    table = study_table(study(rows), results).set_index("variant")
    assert table.loc["base", "t_0_50 top1"] == pytest.approx(60.0)
    assert table.loc["base", "t_0_50 split_std"] == pytest.approx(round(100 * np.std([0.5, 0.6, 0.7]), 2))
    assert table.loc["base", "t_0_50 n_splits"] == 3
    assert math.isnan(table.loc["base", "t_0_50 diff"]) and math.isnan(table.loc["base", "t_0_50 seed_std"])
    diff = 100 * (np.array([0.4, 0.7, 0.6]) - np.array([0.5, 0.6, 0.7]))  # split by split
    assert table.loc["proto", "t_0_50 diff"] == pytest.approx(round(diff.mean(), 2))
    assert table.loc["proto", "t_0_50 diff_se"] == pytest.approx(round(diff.std(ddof=1) / math.sqrt(3), 2))
    assert (table.loc["proto", "paper"], table.loc["proto", "table"]) == (54.7, "T8")
    assert math.isnan(table.loc["base", "paper"])


def test_replicates_report_the_mean_over_seeds_and_their_spread_besides_the_split_std():
    results = {("a", "t_0_50"): result({"e2e": [0.5, 0.6, 0.7]}), ("b", "t_0_50"): result({"e2e": [0.7, 0.8, 0.9]}),
               ("c", "t_0_50"): result({"e2e": [0.5, 0.5, 0.5]})}
    rows = [{"variant": "base", "run": "c", "path": "e2e"}, {"variant": "seeds", "runs": ["a", "b"], "path": "e2e"}]
    row = study_table(study(rows), results).set_index("variant").loc["seeds"]
    assert (row["replicates"], row["run"]) == (2, "a;b")
    assert row["t_0_50 top1"] == pytest.approx(70.0)  # mean of 60 and 80
    assert row["t_0_50 seed_std"] == pytest.approx(round(np.std([60.0, 80.0], ddof=1), 2))
    assert row["t_0_50 split_std"] == pytest.approx(round(100 * np.std([0.5, 0.6, 0.7]), 2))
    assert row["t_0_50 diff"] == pytest.approx(20.0)  # (60+80)/2 - 50, on every split


def test_a_variant_trained_once_carries_the_seed_noise_the_reference_replicates_measure():
    # The reference: 3 seeds whose means are 50, 60, 70 (seed variance 100); each split alike.
    results = {(r, "t_0_50"): result({"e2e": [m] * 3, "prototypes": [m - d] * 3})
               for r, m, d in (("s0", 0.5, 0.1), ("s1", 0.6, 0.0), ("s2", 0.7, 0.2))}
    results[("one", "t_0_50")] = result({"e2e": [0.9, 0.8, 0.7]})
    rows = [{"variant": "base", "runs": ["s0", "s1", "s2"], "path": "e2e"},
            {"variant": "once", "run": "one", "path": "e2e"},
            {"variant": "other path", "runs": ["s0", "s1", "s2"], "path": "prototypes"}]
    table = study_table(study(rows), results).set_index("variant")
    once = table.loc["once"]
    split_se = np.std([30.0, 20.0, 10.0], ddof=1) / math.sqrt(3)
    # one run against three: the reference's seed variance over 3, and over 1 for the variant
    assert once["t_0_50 diff_se_seeds"] == pytest.approx(math.sqrt(split_se**2 + 100 / 3 + 100), abs=0.006)
    # the same models through another path: paired over seeds (differences 10, 0, 20)
    other = table.loc["other path"]
    assert other["t_0_50 diff"] == pytest.approx(-10.0) and other["t_0_50 diff_se"] == pytest.approx(0.0)
    assert other["t_0_50 diff_se_seeds"] == pytest.approx(np.std([10.0, 0.0, 20.0], ddof=1) / math.sqrt(3), abs=0.006)
    # a reference trained once measures no seed noise: only the splits' standard error
    single = study_table(study([{**rows[0], "runs": ["s0"]}, rows[1]]), results).set_index("variant")
    assert math.isnan(single.loc["once", "t_0_50 diff_se_seeds"])


def test_the_seen_validation_score_of_a_row_is_its_runs_kept_epochs_averaged():
    results = {(r, "t_0_50"): result({"e2e": [0.5, 0.6, 0.7]}) for r in ("s0", "s1", "one")}
    models = {"s0": {"val_top1": 0.30}, "s1": {"val_top1": 0.40}, "one": {"val_top1": 0.25}}
    rows = [{"variant": "base", "runs": ["s0", "s1"], "path": "e2e"}, {"variant": "once", "run": "one", "path": "e2e"}]
    table = study_table(study(rows), results, models).set_index("variant")
    assert table.loc["base", "seen_val_top1"] == pytest.approx(35.0)
    assert table.loc["once", "seen_val_top1"] == pytest.approx(25.0)
    assert math.isnan(study_table(study(rows), results).loc[0, "seen_val_top1"])  # no model files given
    compositions = {("s0", "t_0_50"): {"top1": 0.5}, ("s1", "t_0_50"): {"top1": 0.7}, ("one", "t_0_50"): {"top1": 0.4}}
    table = study_table(study(rows), results, models, compositions).set_index("variant")
    assert table.loc["base", "t_0_50 seen_composed_top1"] == pytest.approx(60.0)
    assert table.loc["once", "t_0_50 seen_composed_top1"] == pytest.approx(40.0)


def test_runs_scored_on_other_splits_stop_the_study_naming_both():
    other = [["a", "b"], ["c", "e"], ["a", "c"]]
    results = {("r1", "t_0_50"): result({"e2e": [0.5, 0.6, 0.7]}),
               ("r2", "t_0_50"): result({"e2e": [0.5, 0.6, 0.7]}, classes=other)}
    rows = [{"variant": "base", "run": "r1", "path": "e2e"}, {"variant": "other", "run": "r2", "path": "e2e"}]
    with pytest.raises(StudyError, match=r"runs 'r2' and 'r1' were scored on different splits.*split\(s\) 1"):
        study_table(study(rows), results)
    fewer = {**results, ("r2", "t_0_50"): result({"e2e": [0.5, 0.6]}, classes=CLASSES[:2])}
    with pytest.raises(StudyError, match="2 splits against 3"):
        study_table(study(rows), fewer)
    with pytest.raises(StudyError, match="no score path 'nope'"):
        study_table(study([{"variant": "base", "run": "r1", "path": "nope"}]), results)


STUDY = {
    "targets": ["synthetic_0_50", "synthetic_0_100"],
    "reference": "E2E",
    "rows": [
        {"variant": "E2E", "run": "e2e_synthetic", "path": "e2e", "table": "E2E Table 1",
         "paper": {"value": 48.0, "setting": "UCF101 0/50", "source": "Brattoli et al., CVPR 2020"}},
        {"variant": "E2E prototypes", "run": "e2e_synthetic", "path": "prototypes"},
        {"variant": "two methods", "runs": ["rest_synthetic", "jigsaw_synthetic"], "path": "prototypes"},
    ],
}


def per_split(workdir, run, target, path):
    r = json.loads((workdir / f"results/{run}/{target}.json").read_text())
    return r, 100 * np.array([split[path]["top1"] for split in r["splits"]])


def test_the_study_table_of_a_built_dag_is_its_results_by_hand(tiny_run_copy):
    write_config(tiny_run_copy / "config.yaml", tiny_config(studies={"demo": STUDY}))
    assert "study_table" not in planned_jobs(snakemake(tiny_run_copy, "-n"))  # not in the default target
    snakemake(tiny_run_copy, "results/studies/demo.csv")
    table = pd.read_csv(tiny_run_copy / "results/studies/demo.csv").set_index("variant")
    for target in STUDY["targets"]:
        r, reference = per_split(tiny_run_copy, "e2e_synthetic", target, "e2e")
        row = table.loc["E2E"]
        assert row[f"{target} top1"] == pytest.approx(100 * r["e2e"]["top1"]["mean"], abs=0.006)
        assert row[f"{target} split_std"] == pytest.approx(100 * r["e2e"]["top1"]["std"], abs=0.006)
        assert row[f"{target} n_splits"] == r["n_splits"] == len(r["splits"])
        _, prototypes = per_split(tiny_run_copy, "e2e_synthetic", target, "prototypes")
        diff = prototypes - reference
        row = table.loc["E2E prototypes"]
        assert row[f"{target} diff"] == pytest.approx(diff.mean(), abs=0.006)
        if len(diff) > 1:  # 0/100: one split, no standard error over splits
            assert row[f"{target} diff_se"] == pytest.approx(diff.std(ddof=1) / math.sqrt(len(diff)), abs=0.006)
        else:
            assert math.isnan(row[f"{target} diff_se"])
        replicates = np.stack([per_split(tiny_run_copy, run, target, "prototypes")[1]
                               for run in ("rest_synthetic", "jigsaw_synthetic")])
        row = table.loc["two methods"]
        assert row[f"{target} top1"] == pytest.approx(replicates.mean(), abs=0.006)
        assert row[f"{target} seed_std"] == pytest.approx(replicates.mean(axis=1).std(ddof=1), abs=0.006)
        assert row[f"{target} diff"] == pytest.approx((replicates.mean(axis=0) - reference).mean(), abs=0.006)
    assert table.loc["E2E", "paper"] == 48.0
    kept = json.loads((tiny_run_copy / "models/e2e_synthetic/model.json").read_text())["val_top1"]
    assert table.loc["E2E", "seen_val_top1"] == pytest.approx(100 * kept, abs=0.006)
    for target in STUDY["targets"]:  # the seen-class cross-validation of the composition, per protocol
        cv = json.loads((tiny_run_copy / f"prototypes/e2e_synthetic/composition_{target}.json").read_text())["top1"]
        assert table.loc["E2E", f"{target} seen_composed_top1"] == pytest.approx(100 * cv, abs=0.006)
    md = (tiny_run_copy / "results/studies/demo.md").read_text()
    assert md.startswith("| variant |") and "| E2E | `e2e` |" in md and "reference" in md and "48.0" in md

    # A result scored on other splits (here: one class renamed in split 0) stops the study.
    path = tiny_run_copy / "results/rest_synthetic/synthetic_0_50.json"
    r = json.loads(path.read_text())
    classes = r["splits"][0]["prototypes"]["per_class_top1"]
    classes["renamed"] = classes.pop(next(iter(classes)))
    path.write_text(json.dumps(r))
    failed = snakemake(tiny_run_copy, "results/studies/demo.csv", check=False)
    assert failed.returncode != 0
    assert "runs 'rest_synthetic' and 'e2e_synthetic' were scored on different splits" in failed.stdout + failed.stderr


def test_an_unknown_study_or_a_bad_reference_is_named(tiny_run_copy):
    write_config(tiny_run_copy / "config.yaml", tiny_config(studies={"demo": STUDY}))
    out = snakemake(tiny_run_copy, "-n", "results/studies/dmeo.csv", check=False)
    assert out.returncode != 0 and "there is no study 'dmeo' (did you mean 'demo'?)" in out.stderr
    write_config(tiny_run_copy / "config.yaml", tiny_config(studies={"demo": {**STUDY, "reference": "E3E"}}))
    out = snakemake(tiny_run_copy, "-n", "results/studies/demo.csv", check=False)
    assert out.returncode != 0 and "reference 'E3E' is not a row's variant" in out.stderr


def test_a_runs_seed_reaches_training_and_a_run_without_one_keeps_its_parameters(tiny_run_copy):
    config = tiny_config()
    replicate = {**config["runs"]["e2e_synthetic"], "seed": 7}
    # The seed equal to the global one, and a replicate beside it: nothing of the built runs changes.
    same = tiny_config(runs={"e2e_synthetic": {"seed": config["seed"]}, "e2e_synthetic_s7": replicate})
    write_config(tiny_run_copy / "config.yaml", same)
    assert planned_jobs(snakemake(tiny_run_copy, "-n", "--rerun-triggers", "params", "--", "results/summary.csv")) == {}
    # Its own seed retrains the run: train_model's seed parameter is the run's.
    write_config(tiny_run_copy / "config.yaml", tiny_config(runs={"e2e_synthetic": {"seed": 3}}))
    dry = snakemake(tiny_run_copy, "-n", "--rerun-triggers", "params", "--allowed-rules", "train_model", "--",
                    "models/e2e_synthetic/model.pt", "models/rest_synthetic/model.pt")
    assert planned_jobs(dry) == {"train_model": 1}
    assert "wildcards: run=e2e_synthetic" in dry.stdout and "before: 0 now: 3" in dry.stdout
    write_config(tiny_run_copy / "config.yaml", same)
    snakemake(tiny_run_copy, "models/e2e_synthetic_s7/inputs.json")
    assert json.loads((tiny_run_copy / "models/e2e_synthetic_s7/inputs.json").read_text())["seed"] == 7


ARTEFACTS = ("data", "index", "semantic", "clips", "models", "features", "prototypes", "splits", "results",
             "logs", "plots", "work")


def snapshot(root: Path) -> dict:
    return {str(p): p.stat().st_mtime_ns for name in ARTEFACTS if (root / name).exists()
            for p in [root / name, *(root / name).rglob("*")]}


def test_a_study_world_in_its_own_working_directory_writes_nothing_into_the_repository(tmp_path):
    # No config.yaml in the working directory: the repository's is read, then the study's files.
    world = tmp_path / "world"
    world.mkdir()
    study_world = yaml.safe_load((REPO / "studies/world.yaml").read_text())
    tiny = tiny_config(splits={"count": study_world["splits"]["count"]})
    tiny["synthetic"]["videos_per_class"]["synthetic"] = {"test": 3}
    overrides = write_config(tmp_path / "tiny.yaml",
                             {k: tiny[k] for k in ("synthetic", "decode", "splits", "runs", "summary_runs")})
    before = snapshot(REPO)
    snakemake(world, "--configfile", str(overrides), "--", "splits/synthetic_0_50.json", "index/synthetic.parquet")
    assert snapshot(REPO) == before
    splits = json.loads((world / "splits/synthetic_0_50.json").read_text())
    assert len(splits["splits"]) == 30
    index = pd.read_parquet(world / "index/synthetic.parquet")
    assert len(index) == 3 * 20 and (world / "data/synthetic/annotations.csv").exists()
    assert not (world / "config.yaml").exists() and os.path.isdir(world / ".snakemake")


@pytest.mark.parametrize("study_file", sorted(p.name for p in (REPO / "studies").glob("*.yaml") if p.name != "world.yaml"))
def test_every_shipped_study_plans_in_the_study_world(tmp_path, study_file):
    """A study file's runs pass the schema and the methods' key checks, and its table plans (dry run)."""
    spec = yaml.safe_load((REPO / "studies" / study_file).read_text())
    targets = [f"results/studies/{name}.csv" for name in spec.get("studies", {})] or \
              [f"results/{run}/summary.csv" for run in spec["runs"]]
    out = snakemake(tmp_path, "-n", "--configfile", str(REPO / "config.yaml"), str(REPO / "studies/world.yaml"),
                    str(REPO / "studies" / study_file), "--", *targets)
    planned = out.stdout + out.stderr
    assert all(f"models/{run}/model.pt" in planned for run in spec["runs"])
