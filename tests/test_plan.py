"""The DAG's plan (zsar/pipeline/plan.py) as units: what each rule reads, what reruns it, what is refused.

No Snakemake run here: a Plan is built on a config in memory, filled in by the schema as the
Snakefile does, and asked directly. What only Snakemake shows (reruns on disk, clean stops on the
command line) stays in test_workflow.py and test_reruns.py.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from snakemake.utils import validate

from conftest import REPO, tiny_config
from zsar.methods import resolve
from zsar.pipeline.plan import Plan, PlanError


def plan_of(config: dict | None = None, sampling: dict | None = None, **overrides) -> Plan:
    """A plan of the tiny config with `overrides` merged in; `sampling` replaces runs' sampling."""
    config = copy.deepcopy(config or tiny_config(**overrides))
    for run, value in (sampling or {}).items():
        config["runs"][run]["sampling"] = value
    validate(config, str(REPO / "config.schema.yaml"))  # fills in the defaults, as the Snakefile does
    return Plan(config, str(REPO))


@pytest.fixture(scope="module")
def repo_plan() -> Plan:
    """The repository's own config.yaml."""
    return plan_of(yaml.safe_load((REPO / "config.yaml").read_text()))


def test_a_run_gets_its_methods_defaults_and_its_papers_sampling(repo_plan):
    e2e = repo_plan.run("e2e_k664")
    assert e2e["sampling"] == {"frames": 16, "stride": 1, "crop": 112, "test_clips": 25}
    assert e2e["train"]["batch_size"] == 22 and e2e["model"]["arch"] == "r2plus1d"
    rest = plan_of(sampling={"rest_synthetic": {"preset": "rest18"}},
                   decode={"overrides": {"synthkinetics": {"short_side": 256}, "synthetic": {"short_side": 256}}})
    assert rest.run("rest_synthetic")["sampling"] == {"frames": 16, "stride": 6, "crop": 224, "test_clips": 25}
    assert rest.run("rest_synthetic")["train"]["mtl_weight"] == 0.5  # ResT's masked-token weight


def test_unknown_runs_keys_and_impossible_settings_are_refused_naming_the_run_and_the_key():
    with pytest.raises(PlanError, match=r"there is no run 'e2e_synthetc' \(did you mean 'e2e_synthetic'\?\)"):
        plan_of().run("e2e_synthetc")
    with pytest.raises(PlanError, match=r"run 'e2e_synthetic' in config.yaml: model keys \['heads'\] do not apply"):
        plan_of(runs={"e2e_synthetic": {"model": {"heads": 4}}}).run("e2e_synthetic")
    with pytest.raises(PlanError, match="crops 224 pixels but clips/synthkinetics is cached at a short side of 32: "
                                        "set decode.overrides.synthkinetics.short_side"):
        plan_of(sampling={"e2e_synthetic": {"preset": "rest18"}}).run("e2e_synthetic")
    with pytest.raises(PlanError, match="ResT model.temporal 'lstm' needs model.attention: cross"):
        plan_of(runs={"rest_synthetic": {"model": {"temporal": "lstm"}}}).run("rest_synthetic")
    with pytest.raises(PlanError, match="model.text_encoder 'glove50' must name a sentence embedding"):
        plan_of(runs={"jigsaw_synthetic": {"model": {"text_encoder": "glove50"}}}).run("jigsaw_synthetic")


def test_names_in_the_config_that_match_no_dataset_or_run_are_refused():
    with pytest.raises(PlanError, match=r"default_run names 'ucf10', which is not a dataset .*did you mean 'ucf101'"):
        plan_of(default_run={"ucf10": "e2e_synthetic"}).check_config_names()
    with pytest.raises(PlanError, match="decode.overrides names 'kinetics70'"):
        plan_of(decode={"overrides": {"kinetics70": {"short_side": 64}}}).check_config_names()
    with pytest.raises(PlanError, match="summary_runs names 'e2e'"):
        plan_of(summary_runs=["e2e"]).check_config_names()
    with pytest.raises(PlanError, match="no manifest for dataset 'ucf10'"):
        plan_of().manifest("ucf10")


def test_each_method_reads_its_own_side_files_and_generic_stages_name_none():
    plan = plan_of()
    assert plan.class_side("e2e_synthetic", "synthetic") == {"vectors": "semantic/glove50/synthetic.h5"}
    assert plan.video_side("e2e_synthetic", "synthetic") == {}
    # JigsawNet: the atomic actions embedded by its text encoder, and (tiny config) the detected objects
    assert plan.class_side("jigsaw_synthetic", "synthkinetics") == {
        "vectors": "semantic/glove50/synthkinetics.h5", "phrases": "semantic/minilm/synthkinetics_phrases.h5"}
    assert plan.video_side("jigsaw_synthetic", "synthetic") == {"objects": "semantic/minilm/synthetic_objects.h5"}
    trained = plan_of(runs={"jigsaw_synthetic": {"model": {"text_layers": 2}}})
    assert trained.class_side("jigsaw_synthetic", "synthetic")["phrase_states"] == \
        "semantic/minilm/synthetic_phrases_top2.h5"
    assert plan.training_inputs("jigsaw_synthetic") == {
        "inputs": "models/jigsaw_synthetic/inputs.json",
        "clips": "clips/synthkinetics.parquet",
        "vectors": "semantic/glove50/synthkinetics.h5",
        "phrases": "semantic/minilm/synthkinetics_phrases.h5",
        "objects": "semantic/minilm/synthkinetics_objects.h5",
        "overlap": "semantic/glove50/synthkinetics_minus_synthetic.tsv",
    }
    assert plan.extract_inputs("e2e_synthetic", "synthetic", 0) == {
        "model": "models/e2e_synthetic/model.pt", "clips": "clips/synthetic/0.h5"}
    # scored by alignment, JigsawNet reads its projected phrases; E2E and ResT do not
    assert plan.score_inputs("jigsaw_synthetic", "synthetic", "0_50")["phrases"] == \
        "features/jigsaw_synthetic/synthetic_phrases.h5"
    assert "phrases" not in plan.score_inputs("e2e_synthetic", "synthetic", "0_50")
    assert plan.class_projection_inputs("jigsaw_synthetic", "synthetic") == {
        "phrases": "semantic/minilm/synthetic_phrases.h5"}


def test_seen_features_are_named_by_the_runs_own_source():
    with pytest.raises(PlanError, match="run 'e2e_synthetic' trains on synthkinetics, so its seen features are "
                                        "features/e2e_synthetic/synthkinetics_seen.h5"):
        plan_of().seen_inputs("e2e_synthetic", "synthetic", 0)


def test_provenance_records_what_a_result_depends_on_and_nothing_that_cannot_change_it():
    plan = plan_of()
    e2e = plan.provenance("e2e_synthetic", "synthetic")
    assert e2e["run"] == "e2e_synthetic" and e2e["method"] == "e2e" and e2e["seed"] == 0
    assert "resources" not in e2e  # what a job asks of a cluster
    assert set(e2e["decode"]) == {"synthkinetics", "synthetic"}
    assert not {"videos_per_shard", "compression", "backend"} & set(e2e["decode"]["synthetic"])
    assert set(e2e["synthetic"]["videos_per_class"]) == {"synthkinetics", "synthetic"}  # not the other worlds
    assert "descriptions" not in e2e and "objects" not in e2e  # only methods that read them record them
    jigsaw = plan.provenance("jigsaw_synthetic", "synthetic")
    assert jigsaw["descriptions"] == plan.config["descriptions"] and jigsaw["objects"] == plan.config["objects"]
    without_objects = plan_of(runs={"jigsaw_synthetic": {"model": {"objects": False}}})
    assert "objects" not in without_objects.provenance("jigsaw_synthetic", "synthetic")


def test_the_frames_a_model_trained_on_change_with_the_pixels_not_with_how_the_cache_is_cut():
    def frames(**decode):
        return plan_of(decode={"overrides": {"synthkinetics": decode}}).trained_frames_digest("synthkinetics")

    base = frames()
    assert frames(videos_per_shard=7) == base  # re-cut: retrains nothing
    # another decoder decodes the cache again (its settings file) but gives the same frames (tests/test_video.py)
    assert frames(backend="decord") == frames(backend="torchcodec") == base
    assert plan_of(decode={"backend": "decord"}).cache_settings("synthkinetics")["backend"] == "decord"
    assert frames(codec="raw", compression="lzf") == frames(codec="raw", compression="blosc-lz4") != base
    assert frames(quality=80) != base and frames(short_side=48) != base
    assert plan_of(synthetic={"seed": 1}).trained_frames_digest("synthkinetics") != base


def test_a_run_at_a_short_side_of_its_own_reads_caches_of_its_own_and_the_datasets_side_changes_nothing():
    """sampling.short_side: the dataset's own side (or null) is its own cache and retrains nothing;
    another side is a cache beside it, clips/{dataset}@{side}, for that run alone."""
    plan = plan_of()
    own = plan_of(sampling={"e2e_synthetic": {"frames": 4, "stride": 2, "crop": 28, "test_clips": 2, "short_side": 32}})
    null = plan_of(sampling={"e2e_synthetic": {"frames": 4, "stride": 2, "crop": 28, "test_clips": 2, "short_side": None}})
    for same in (own, null):
        assert same.training_record("e2e_synthetic") == plan.training_record("e2e_synthetic")
        assert same.extract_inputs("e2e_synthetic", "synthetic", 0)["clips"] == "clips/synthetic/0.h5"
        assert same.provenance("e2e_synthetic", "synthetic") == plan.provenance("e2e_synthetic", "synthetic")
    assert "short_side" not in null.run("e2e_synthetic")["sampling"]  # null: as if never set

    wide = plan_of(sampling={"e2e_synthetic": {"frames": 4, "stride": 2, "crop": 40, "test_clips": 2, "short_side": 48}})
    assert wide.run_cache("e2e_synthetic", "synthkinetics") == "synthkinetics@48"
    assert wide.training_inputs("e2e_synthetic")["clips"] == "clips/synthkinetics@48.parquet"
    assert wide.extract_inputs("e2e_synthetic", "synthetic", 0)["clips"] == "clips/synthetic@48/0.h5"
    assert wide.seen_inputs("e2e_synthetic", "synthkinetics", 1)["catalogue"] == "clips/synthkinetics@48.parquet"
    assert wide.cache_settings("synthetic@48") == {**wide.decode_settings("synthetic"), "short_side": 48}
    assert wide.cache_dataset("synthetic@48") == "synthetic" and wide.cache("synthetic", 32) == "synthetic"
    record = wide.training_record("e2e_synthetic")
    assert record["frames"] == wide.trained_frames_digest("synthkinetics@48") != plan.training_record("e2e_synthetic")["frames"]
    provenance = wide.provenance("e2e_synthetic", "synthetic")
    assert provenance["decode"]["synthetic"]["short_side"] == 48 and provenance["caches"]["synthetic"] == "synthetic@48"
    # The other runs keep the dataset's own cache.
    assert wide.extract_inputs("rest_synthetic", "synthetic", 0)["clips"] == "clips/synthetic/0.h5"
    with pytest.raises(PlanError, match=r"crops 64 pixels but clips/synthkinetics@48 is cached at a short side of 48: "
                                        r"set the run's sampling.short_side to at least 64"):
        plan_of(sampling={"e2e_synthetic": {"frames": 4, "stride": 2, "crop": 64, "test_clips": 2,
                                            "short_side": 48}}).run("e2e_synthetic")


def test_a_runs_own_seed_equal_to_the_global_one_keeps_its_training_record():
    plan = plan_of()
    seeded = plan_of(runs={"e2e_synthetic": {"seed": 0}})
    assert seeded.training_record("e2e_synthetic") == plan.training_record("e2e_synthetic")
    assert plan_of(runs={"e2e_synthetic": {"seed": 1}}).training_record("e2e_synthetic")["seed"] == 1
    resourced = plan_of(runs={"e2e_synthetic": {"resources": {"gpu": 1, "mem_mb": 1, "runtime": 1}}})
    assert resourced.training_record("e2e_synthetic") == plan.training_record("e2e_synthetic")


def test_settings_of_speed_not_of_what_is_learnt_keep_the_training_record():
    """Setting decode threads, shard handles, channels-last, cuDNN's benchmark or torch.compile
    retrains nothing; precision, nodes and processes change what a model learns and retrain."""
    plan = plan_of()
    fast = {"decode_threads": 4, "open_shards": 64, "channels_last": True, "deterministic": False, "compile": True}
    assert plan_of(runs={"e2e_synthetic": {"train": fast}}).training_record("e2e_synthetic") == \
        plan.training_record("e2e_synthetic")
    for learns in ({"precision": "bf16"}, {"nodes": 2}, {"processes": 2}, {"shard_window": 4}):
        changed = plan_of(runs={"e2e_synthetic": {"train": learns}}).training_record("e2e_synthetic")
        assert changed != plan.training_record("e2e_synthetic"), learns


def test_gpus_follow_the_processes_a_node_and_several_nodes_ask_theirs_a_node():
    with pytest.raises(PlanError, match=r"run 'e2e_synthetic' .* trains in 4 process\(es\) a node .* asks for 2 GPU"):
        plan_of(runs={"e2e_synthetic": {"train": {"processes": 4}, "resources": {"gpu": 2}}}).run("e2e_synthetic")
    one = plan_of(runs={"e2e_synthetic": {"train": {"processes": 4}, "resources": {"gpu": 4}}})
    assert one.train_resources("e2e_synthetic") | {"mem_mb": 0, "runtime": 0} == \
        {"gpu": 4, "nodes": 1, "mem_mb": 0, "runtime": 0}
    several = plan_of(runs={"e2e_synthetic": {"train": {"processes": 4, "nodes": 8}, "resources": {"gpu": 4}}})
    assert several.train_resources("e2e_synthetic")["gpu"] == 0  # --gpus counts a job's GPUs anywhere
    assert several.train_resources("e2e_synthetic")["gres"] == "gpu:4"
    assert several.train_resources("e2e_synthetic")["nodes"] == 8
    for bad, message in (({"precision": "fp8"}, "train.precision must be one of auto, bf16, fp16, fp32"),
                         ({"nodes": 0}, "train.nodes must be a positive integer"),
                         ({"compile": 1}, "train.compile must be true, false or a torch.compile backend")):
        with pytest.raises(ValueError, match=message):  # the schema refuses them too, for config.yaml
            resolve("e2e", {}, bad)


def test_protocols_are_the_configured_halves_and_a_datasets_published_splits(repo_plan):
    assert repo_plan.protocols_of("ucf101") == ["0_50", "0_100", "0_full"]  # the official test lists too
    assert repo_plan.protocols("hmdb51") == ["0_50", "0_100", "0_full"]
    assert repo_plan.protocols_of("synthetic") == ["0_50", "0_100"]
    assert repo_plan.protocols_of("kineticszsar") == ["0_50", "0_100", "60_160"]
    assert repo_plan.protocols("kineticszsar") == ["60_160"]  # what its tables show
    with pytest.raises(PlanError, match="kineticszsar has no protocol 10/20(.|\n)*published: hmdb51: 0_full, kineticszsar: 60_160"):
        repo_plan.check_protocol("kineticszsar", "10_20")
    assert repo_plan.default_result("ucf101", "0_50") == "results/e2e_k664/ucf101_0_50.json"
    with pytest.raises(PlanError, match="no default run for target 'synthseq'"):
        repo_plan.default_result("synthseq", "0_50")


def test_shards_follow_the_rendered_world_and_the_decode_settings():
    plan = plan_of()  # tiny: 5 videos a class, 75 a shard
    n_classes = len(plan.manifest("synthkinetics")["classes"])
    assert plan.n_videos("synthkinetics") == 5 * n_classes
    assert plan.shard_files("clips/{dataset}/{shard}.h5", "synthkinetics") == [
        f"clips/synthkinetics/{s}.h5" for s in range(-(-5 * n_classes // 75))]
    assert plan.shard_stamp("synthkinetics", 0) is None  # rendered: render_synthetic tracks its videos


def test_a_downloaded_dataset_is_planned_from_its_listing_alone(tmp_path, monkeypatch):
    """Shards, their parameters and what a model trained on come from index/{dataset}/listed.*, which
    list_videos writes; planning reads no video (a cluster job's parse stats none)."""
    import os

    from zsar.data.listing import take_listing, write_listing
    from zsar.data.manifest import load_manifest

    root = tmp_path / "data/ucf101"
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 Archery\n")
    (lists / "trainlist01.txt").write_text("".join(f"Archery/v_Archery_g0{k}_c01.avi 1\n" for k in range(1, 6)))
    (lists / "testlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n")
    for k in range(1, 5):  # g05 is listed but not on disk
        (root / f"UCF-101/Archery/v_Archery_g0{k}_c01.avi").parent.mkdir(parents=True, exist_ok=True)
        (root / f"UCF-101/Archery/v_Archery_g0{k}_c01.avi").write_bytes(b"\0" * k)
    monkeypatch.chdir(tmp_path)
    plan = plan_of(data_root="data", decode={"overrides": {"ucf101": {"videos_per_shard": 2}}})
    with pytest.raises(PlanError, match=r"index/ucf101/listed.json is missing: run `snakemake index/ucf101/listed.json`"):
        plan.n_shards("ucf101")
    listing = plan.listing_files("ucf101")
    manifest = load_manifest("ucf101", REPO / "data_manifest", "data")
    write_listing(take_listing(manifest, root)[0], listing["listed"], listing["summary"])

    stats = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: stats.append(str(path)) or real_stat(path, *a, **k))
    assert plan.n_videos("ucf101") == 4 and plan.n_shards("ucf101") == 2  # the 4 on disk, 2 a shard
    stamps = [plan.shard_stamp("ucf101", s) for s in range(2)]
    frames = plan.trained_frames_digest("ucf101")
    assert len(set(stamps)) == 2 and plan.shard_stamp("ucf101", 7) == "no videos"
    assert not [path for path in stats if path.endswith(".avi")], stats
    monkeypatch.setattr(os, "stat", real_stat)

    # A video rewritten in place counts once the listing is taken again: its shard's stamp changes,
    # and what a model trained on.
    (root / "UCF-101/Archery/v_Archery_g02_c01.avi").write_bytes(b"\1" * 10)
    assert [plan.shard_stamp("ucf101", s) for s in range(2)] == stamps  # the listing is what the plan sees
    write_listing(take_listing(manifest, root)[0], listing["listed"], listing["summary"])
    again = [plan.shard_stamp("ucf101", s) for s in range(2)]
    assert sum(a != b for a, b in zip(stamps, again)) == 1 and plan.trained_frames_digest("ucf101") != frames

    # The folders' times: a file added to a class folder changes them; one rewritten in place does not.
    folders = plan.listing_folders("ucf101")
    (root / "UCF-101/Archery/v_Archery_g01_c01.avi").write_bytes(b"\2" * 3)
    assert plan.listing_folders("ucf101") == folders
    (root / "UCF-101/Archery/v_Archery_g05_c01.avi").write_bytes(b"\3")
    assert plan.listing_folders("ucf101") != folders
    assert plan.listing_folders("synthkinetics") is None  # rendered: render_synthetic tracks its videos

    (tmp_path / listing["summary"]).write_text('{"videos": 4, "pres')  # a copy stopped half-way
    with pytest.raises(PlanError, match=r"index/ucf101/listed.json: not valid JSON .*Delete it and run snakemake"):
        plan.n_shards("ucf101")


def test_the_report_shows_every_summary_run_on_every_target_and_protocol():
    plan = plan_of()
    figures = plan.report_figures()
    for run in ("e2e_synthetic", "rest_synthetic", "jigsaw_synthetic"):
        assert f"plots/{run}/training.png" in figures
        assert f"plots/{run}/synthetic_0_50_composition.html" in figures
    assert "plots/overlap/glove50/synthkinetics_minus_synthetic_map.png" in figures
    assert len(figures) == len(set(figures))


def test_a_study_is_checked_before_any_job():
    study = {"targets": ["synthetic_0_50"], "reference": "e2e",
             "rows": [{"variant": "e2e", "path": "e2e", "run": "e2e_synthetic"},
                      {"variant": "rest", "path": "composed", "runs": ["rest_synthetic"]}]}
    plan = plan_of(studies={"demo": study})
    assert plan.study_inputs("demo")[:2] == ["results/e2e_synthetic/synthetic_0_50.json",
                                             "results/rest_synthetic/synthetic_0_50.json"]
    assert "prototypes/rest_synthetic/composition_synthetic_0_50.json" in plan.study_inputs("demo")
    with pytest.raises(PlanError, match="there is no study 'dmeo' \\(did you mean 'demo'\\?\\)"):
        plan.study("dmeo")
    for change, message in (
        ({"reference": "c3d"}, "reference 'c3d' is not a row's variant"),
        ({"targets": ["ucf101_0_50"]}, "target 'ucf101_0_50' is not one of run 'e2e_synthetic''s results"),
        ({"targets": ["synthetic_0_30"]}, "synthetic has no protocol 0/30"),
        ({"rows": [{"variant": "a", "path": "e2e", "run": "e2e_synthetic"},
                   {"variant": "a", "path": "composed", "run": "rest_synthetic"}]},
         "each row needs its own variant name"),
    ):
        with pytest.raises(PlanError, match=message):
            plan_of(studies={"demo": {**study, "reference": "a" if "rows" in change else "e2e", **change}}).study("demo")


def test_an_unknown_method_is_refused_naming_zsars_and_how_to_bring_ones_own():
    with pytest.raises(PlanError, match="run 'e2e_synthetic' in config.yaml: unknown method 'e2f': no such package; "
                                        "use one of clip, e2e, jigsaw, maxi, rest, vificlip, or the import path of a package of yours"):
        plan_of(runs={"e2e_synthetic": {"method": "e2f"}}).run("e2e_synthetic")


def test_presets_and_keys_a_method_does_not_take_are_refused_when_the_run_resolves():
    with pytest.raises(PlanError, match="unknown sampling preset 'rest16'; use one of clip, e2e, jigsaw, maxi, rest18"):
        plan_of(sampling={"rest_synthetic": {"preset": "rest16"}}).run("rest_synthetic")
    with pytest.raises(PlanError, match="model.preset 'r2plus1d18' is not one of method 'rest''s"):
        plan_of(runs={"rest_synthetic": {"model": {"preset": "r2plus1d18"}}}).run("rest_synthetic")
    with pytest.raises(PlanError, match=r"train keys \['warmup_lr'\] do not apply to method 'e2e'"):
        plan_of(runs={"e2e_synthetic": {"train": {"warmup_lr": 0.1}}}).run("e2e_synthetic")


def test_model_shapes_a_training_job_would_refuse_are_refused_when_the_run_resolves():
    for runs, message in (
        ({"e2e_synthetic": {"model": {"widths": [4, 8, 16], "layers": [1, 1, 1, 1]}}},
         r"model.widths \[4, 8, 16\] and model.layers \[1, 1, 1, 1\] of E2E's r2plus1d backbone must have one entry"),
        ({"e2e_synthetic": {"model": {"arch": "c3d", "widths": [4, 8], "layers": 2}}},
         "model.layers of E2E's c3d backbone must be a list of positive integers, one per stage"),
        ({"rest_synthetic": {"model": {"backbone": "r2plus1d", "depth": 101}}},
         "ResT's r2plus1d frame encoder has depth 18 or 34, not 101"),
        ({"rest_synthetic": {"model": {"heads": 3}}}, "ResT's transformer splits its width 32 into 3 attention heads"),
        ({"jigsaw_synthetic": {"model": {"d": 10, "heads": 4}}}, "JigsawNet's Group Excitation splits its width 10"),
    ):
        with pytest.raises(PlanError, match=message):
            run = next(iter(runs))
            plan_of(runs=runs).run(run)


def test_a_run_whose_source_is_one_of_its_targets_is_refused_before_any_job():
    with pytest.raises(PlanError, match="run 'e2e_synthetic' in config.yaml: its source synthkinetics is also one "
                                        "of its targets"):
        plan_of(runs={"e2e_synthetic": {"targets": ["synthetic", "synthkinetics"]}}).run("e2e_synthetic")


def test_a_stand_in_clip_is_built_not_checked_and_a_run_may_filter_the_overlap_in_other_vectors():
    config = tiny_config(embeddings={"standin": {"kind": "clip", "arch": "zsar-tiny", "checkpoint": "pretrained/s.pt"}},
                         pretrain={"s": {"arch": "zsar-tiny", "images": 10, "epochs": 1, "batch_size": 4, "lr": 0.001,
                                         "seed": 0}})
    config["runs"]["clip_synthetic"] = {"method": "clip", "source": "synthkinetics", "targets": ["synthetic"],
                                        "embedding": "standin", "overlap_embedding": "glove50",
                                        "sampling": {"frames": 1, "stride": 1, "crop": 28, "test_clips": 2, "short_side": None}}
    plan = plan_of(config)
    assert plan.embedding_inputs("standin") == {"checkpoint": "pretrained/s.pt"}  # made by pretrain_clip
    assert plan.overlap_table("clip_synthetic") == "semantic/glove50/synthkinetics_minus_synthetic.tsv"
    inputs = plan.score_inputs("clip_synthetic", "synthetic", "0_50")
    assert inputs["vectors"] == "semantic/standin/synthetic.h5"
    assert inputs["overlap_vectors"] == "semantic/glove50/synthetic.h5"
    assert "overlap_vectors" not in plan.score_inputs("e2e_synthetic", "synthetic", "0_50")
    config["embeddings"]["standin"]["arch"] = "ViT-B-16"
    with pytest.raises(PlanError, match="names arch ViT-B-16 for pretrained/s.pt, which pretrain.s trains as zsar-tiny"):
        plan_of(config).embedding_inputs("standin")
    config["embeddings"]["standin"] = {"kind": "clip", "arch": "zsar-tiny", "checkpoint": "pretrained/t.pt"}
    with pytest.raises(PlanError, match="config.yaml's `pretrain` has no 't'"):
        plan_of(config).embedding_inputs("standin")
