"""Rerunning one stage: what Snakemake reruns, and what it leaves alone (docs/reruns.md, "Rerunning one stage")."""

import shutil
import sys

from conftest import copy_workflow, snakemake, tiny_config, write_config
from test_workflow import planned_jobs

DOWNSTREAM_OF_COMPOSE = {"compose_prototypes", "score_splits", "score_gzsl", "default_result", "tabulate_run", "tabulate",
                         "all",
                         # the report's figures of the results and the prototypes
                         "plot_results", "plot_classes", "plot_prototypes"}


def test_forcerun_one_rule_reruns_it_and_what_depends_on_it_only(tiny_run):
    jobs = planned_jobs(snakemake(tiny_run, "-n", "--forcerun", "compose_prototypes"))
    assert set(jobs) == DOWNSTREAM_OF_COMPOSE
    assert jobs["compose_prototypes"] == 6  # three runs x two protocols


def test_until_stops_after_the_named_rule(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config())
    jobs = planned_jobs(snakemake(tmp_path, "-n", "--until", "train_model"))
    assert jobs["train_model"] == 3 and jobs["decode_clips"] >= 2
    assert not {"extract_embeddings", "compose_prototypes", "score_splits"} & set(jobs)


def workflow_copy_with_a_workdir(tmp_path):
    """A copy of the workflow in tmp_path, a working directory with the tiny config, and the
    Snakemake command that runs the copy."""
    workflow = copy_workflow(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    write_config(work / "config.yaml", tiny_config())
    return work, [sys.executable, "-m", "snakemake", "--snakefile", str(workflow)]


def test_a_stage_reruns_when_the_code_it_runs_changed_and_only_then(tiny_run, tmp_path):
    """Code is tracked by content (zsar/pipeline/codebase.py): a script and the zsar modules it imports,
    docstrings and comments left out; `snakemake -n` names the module that changed."""
    work = tmp_path / "work"
    shutil.copytree(tiny_run, work, symlinks=True)  # the finished run, times and metadata kept
    project = tmp_path / "clone"  # a clone of the workflow with its library, files newer than the run
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(copy_workflow(project, library=True))]

    def dry():
        result = snakemake(work, "-n", command=command, python_path=project)
        return planned_jobs(result), result.stdout + result.stderr

    jobs, text = dry()
    assert jobs == {}, text[text.find("reason"):][:1500]  # a fresh clone's newer scripts rerun nothing
    scoring = project / "zsar/zeroshot/scoring.py"
    original = scoring.read_text()
    assert '    """Skewness of the 1-occurrence distribution' in original
    scoring.write_text(original.replace('"""Skewness of the 1-occurrence distribution',
                                        '"""The skewness of the 1-occurrence distribution') + "\n# a comment\n")
    assert dry()[0] == {}  # a docstring and a comment: nothing
    scoring.write_text(original.replace("def hubness_skew(scores: np.ndarray) -> float:",
                                        "def hubness_skew(scores: np.ndarray) -> float:\n    scores = scores + 0"))
    jobs, text = dry()
    assert jobs["score_splits"] == 6 and "zsar/zeroshot/scoring.py" in text.split("reason:", 1)[1].splitlines()[0]
    assert not {"train_model", "extract_embeddings", "extract_seen", "seen_prototypes", "compose_prototypes",
                "select_composition", "make_splits"} & set(jobs)
    scoring.write_text(original)
    script = project / "workflow_scripts/make_splits.py"
    script.write_text(script.read_text() + "\n# a comment\n")
    assert dry()[0] == {}
    script.write_text(script.read_text() + "\nassert True\n")
    jobs = dry()[0]
    assert jobs["make_splits"] == 2 and "train_model" not in jobs
    # A method's own package reruns that method's runs' stages, not another method's.
    script.write_text(script.read_text().replace("\nassert True\n", ""))
    model = project / "zsar/methods/rest/model.py"
    model.write_text(model.read_text() + "\nCHANGED = True\n")
    jobs, text = dry()
    assert jobs["train_model"] == 1 and "zsar.methods.rest" in text
    assert "models/e2e_synthetic/model.pt" not in text.split("Job stats")[1]


def test_editing_a_class_description_reparses_atomic_actions_and_nothing_that_reads_names_only(tmp_path):
    work, run = workflow_copy_with_a_workdir(tmp_path)
    targets = ["semantic/atomic/synthetic.tsv", "semantic/glove50/synthetic.h5", "splits/synthetic_0_50.json"]
    snakemake(work, *targets, command=run)
    manifest = tmp_path / "data_manifest/synthetic.yaml"
    text = manifest.read_text()
    old = "spinning a wheel around its centre."
    assert old in text
    manifest.write_text(text.replace(old, "turning a wheel round and round its centre."))
    assert planned_jobs(snakemake(work, "-n", *targets, command=run)) == {"atomic_actions": 1}
    manifest.write_text(text.replace("{name: spinning wheels,", "{name: spinning wheel,"))  # a class renamed
    assert set(planned_jobs(snakemake(work, "-n", *targets, command=run))) == {
        "atomic_actions", "embed_classes", "make_splits"}


def test_another_decoder_decodes_again_and_retrains_nothing_for_the_same_frames(tiny_run_copy):
    """decode.backend: every backend gives the same frames (tests/test_video.py), so another one
    probes and decodes the videos again, and the model and the results stay as they were."""
    import yaml

    run = tiny_run_copy
    model = run / "models/e2e_synthetic/model.pt"
    result = run / "results/e2e_synthetic/synthetic_0_50.json"
    before, model_time = result.read_bytes(), model.stat().st_mtime_ns
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["decode"]["overrides"]["synthkinetics"]["backend"] = "decord"
    write_config(run / "config.yaml", config)
    planned = planned_jobs(snakemake(run, "-n"))
    assert planned["index_videos"] == planned["decode_clips"] == 2 and "train_model" not in planned
    snakemake(run, "results/e2e_synthetic/synthetic_0_50.json")
    assert model.stat().st_mtime_ns == model_time and result.read_bytes() == before
    assert (run / "index/synthkinetics.parquet").exists()


def test_a_cache_cut_into_other_shards_retrains_nothing_and_gives_the_same_results(tiny_run_copy):
    """The model depends on the videos and frames it was trained on, not on how the cache is cut."""
    import yaml

    run = tiny_run_copy
    model = run / "models/e2e_synthetic/model.pt"
    result = run / "results/e2e_synthetic/synthetic_0_50.json"
    before, model_time = result.read_bytes(), model.stat().st_mtime_ns
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["decode"]["overrides"]["synthkinetics"]["videos_per_shard"] = 50  # 3 shards instead of 2
    write_config(run / "config.yaml", config)
    planned = planned_jobs(snakemake(run, "-n"))
    assert planned["decode_clips"] == 3 and "train_model" not in planned
    snakemake(run, "results/e2e_synthetic/synthetic_0_50.json")
    assert model.stat().st_mtime_ns == model_time and result.read_bytes() == before
    assert len(list((run / "features/e2e_synthetic/synthkinetics_seen").glob("*.h5"))) >= 3

    # Other frames (raw instead of JPEG) are another training set: both runs retrain, even when the
    # index reruns in the same invocation (Snakemake then compares no parameter downstream of it).
    config["decode"]["overrides"]["synthkinetics"]["codec"] = "raw"
    config["decode"]["min_frames"] = 5
    write_config(run / "config.yaml", config)
    planned = planned_jobs(snakemake(run, "-n"))
    # 3 source shards, 2 target shards, and the demo's folder of videos to label (the target's videos)
    assert planned["index_videos"] == 3 + 2 + 1 and planned["decode_clips"] == 3 + 2 + 1 and planned["train_model"] == 3
    # So are other source videos: the rendered world drawn again.
    config["decode"]["overrides"]["synthkinetics"]["codec"] = "jpeg"
    config["synthetic"]["seed"] = 1
    write_config(run / "config.yaml", config)
    assert planned_jobs(snakemake(run, "-n"))["train_model"] == 3
