"""What zsar guarantees when inputs are wrong, jobs are killed or the project moves (docs/reliability.md)."""

import re
import shutil
import sys

import h5py
import pytest

from conftest import copy_workflow, snakemake, tiny_config, write_config
from test_workflow import planned_jobs

pytestmark = pytest.mark.workflow


def test_a_refused_setting_is_refused_before_any_job_and_putting_it_back_plans_nothing(tiny_run_copy):
    """overlap.tau = 2 (with the class embeddings on disk) and a run whose source is one of its targets
    are refused when the DAG parses: nothing is deleted, so the restored config has nothing to do."""
    model = tiny_run_copy / "models/e2e_synthetic/model.pt"
    before = (model.read_bytes(), model.stat().st_mtime_ns)
    good = tiny_config()
    for bad, message in (
            (tiny_config(overlap={"tau": 2}),
             "overlap.tau = 2 keeps 0 of the 30 synthkinetics classes when protecting synthetic: a run needs at "
             "least 2 training classes"),
            (tiny_config(runs={"e2e_synthetic": {"targets": ["synthkinetics"]}}),
             "run 'e2e_synthetic' in config.yaml: its source synthkinetics is also one of its targets")):
        write_config(tiny_run_copy / "config.yaml", bad)
        result = snakemake(tiny_run_copy, check=False)
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert "rule " not in result.stdout + result.stderr and "Traceback" not in result.stderr
        write_config(tiny_run_copy / "config.yaml", good)
        assert planned_jobs(snakemake(tiny_run_copy, "-n")) == {}
    assert (model.read_bytes(), model.stat().st_mtime_ns) == before


def test_a_tau_refused_before_the_class_embeddings_exist_stops_at_the_overlap_stage(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config(overlap={"tau": 2}))
    result = snakemake(tmp_path, "semantic/glove50/synthkinetics_minus_synthetic.tsv", check=False)
    assert result.returncode != 0 and "rule filter_overlap:" in result.stderr
    assert "overlap.tau = 2 keeps 0 of the 30 synthkinetics classes" in result.stdout + result.stderr


def test_a_failed_training_keeps_the_last_good_model_and_the_setting_put_back_takes_it_back(tiny_run_copy):
    """A training that fails (here on a damaged cache shard, named with what to do) loses nothing: the
    last good model stays in models/<run>/.kept/, and once the setting and the shard are put back the
    job takes it back instead of training, with the same results."""
    run = tiny_run_copy
    model, kept = run / "models/e2e_synthetic/model.pt", run / "models/e2e_synthetic/.kept/model.pt"
    result_file = run / "results/e2e_synthetic/synthetic_0_50.json"
    weights, result_before = model.read_bytes(), result_file.read_bytes()
    shard = run / "clips/synthkinetics/0.h5"
    shard_bytes = shard.read_bytes()
    with h5py.File(shard, "r+") as f:  # every frame of the shard's videos overwritten: a bad copy
        for video in f["frames"].values():
            video[...] = 0
    write_config(run / "config.yaml", tiny_config(runs={"e2e_synthetic": {"train": {"lr": 0.002}}}))
    failed = snakemake(run, "models/e2e_synthetic/model.pt", check=False)
    assert failed.returncode != 0
    text = failed.stdout + failed.stderr
    assert "Error in rule train_model" in text
    assert re.search(r"clips/synthkinetics/0\.h5: frame \d+ of video \S+ cannot be read back", text), text
    assert "delete clips/synthkinetics/0.h5 and run snakemake again" in text
    assert not model.exists() and kept.read_bytes() == weights

    shard.write_bytes(shard_bytes)
    write_config(run / "config.yaml", tiny_config())
    snakemake(run, "results/e2e_synthetic/synthetic_0_50.json")
    assert "took those back" in (run / "logs/train_model/e2e_synthetic.log").read_text()
    assert model.read_bytes() == weights and result_file.read_bytes() == result_before


def test_a_deleted_result_of_the_summary_is_rebuilt_by_the_default_target(tiny_run_copy):
    (tiny_run_copy / "results/e2e_synthetic/synthetic_0_50.json").unlink()
    assert planned_jobs(snakemake(tiny_run_copy, "-n"))["score_splits"] == 1


def test_a_truncated_artefact_is_named_with_what_to_do(tiny_run_copy):
    seen = tiny_run_copy / "prototypes/e2e_synthetic/seen.h5"
    seen.write_bytes(seen.read_bytes()[:1000])  # a copy stopped half-way
    result = snakemake(tiny_run_copy, "--forcerun", "score_splits", "results/e2e_synthetic/synthetic_0_100.json",
                       check=False)
    assert result.returncode != 0
    assert ("prototypes/e2e_synthetic/seen.h5: cannot be read as HDF5" in result.stdout + result.stderr
            and "Delete it and run snakemake again to rebuild it" in result.stdout + result.stderr)


def test_moving_a_finished_project_leaves_nothing_to_do(tiny_run, tmp_path):
    # A project: the workflow's files and a finished run side by side, as in a user's clone.
    project = tmp_path / "project"
    shutil.copytree(tiny_run, project, symlinks=True)  # keeps the files' times, as mv and cp -a do
    copy_workflow(project)

    def dry_run(folder):
        return planned_jobs(snakemake(folder, "-n", command=[sys.executable, "-m", "snakemake", "--snakefile",
                                                              str(folder / "Snakefile")]))

    assert dry_run(project) == {}
    moved = tmp_path / "elsewhere/deeper/project"
    moved.parent.mkdir(parents=True)
    shutil.move(project, moved)
    assert dry_run(moved) == {}


@pytest.mark.parametrize("override, message", [
    ({"decode": {"overrides": {"synthetik": {"short_side": 32}}}},
     "config: decode.overrides names 'synthetik', which is not a dataset (data_manifest/) (did you mean 'synthetic'?)"),
    ({"synthetic": {"videos_per_class": {"synthkinetic": {"train": 2}}}},
     "config: synthetic.videos_per_class names 'synthkinetic', which is not a dataset"),
    ({"default_run": {"ucf11": "e2e_k664"}}, "config: default_run names 'ucf11', which is not a dataset"),
    ({"default_run": {"ucf101": "e2e_k66"}}, "config: default_run values names 'e2e_k66', which is not a run"),
])
def test_a_misspelt_dataset_or_run_name_in_the_config_is_named(tmp_path, override, message):
    write_config(tmp_path / "config.yaml", tiny_config(**override))
    result = snakemake(tmp_path, "-n", check=False)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_a_mistyped_target_gets_a_short_message_with_the_valid_ones(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_config())
    for target, problem in (("results/synthetic_0_5.json", "synthetic has no protocol 0/5"),
                            ("results/e2e_synthetc/synthetic_0_50.json",
                             "there is no run 'e2e_synthetc' (did you mean 'e2e_synthetic'?)")):
        result = snakemake(tmp_path, "-n", target, check=False)
        assert result.returncode == 1 and problem in result.stderr, result.stderr
        assert "results/<run>/<target>_<protocol>.json" in result.stderr and "protocol: 0_50, 0_100" in result.stderr
        assert len((result.stdout + result.stderr).splitlines()) < 30 and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_a_yaml_error_in_config_yaml_names_the_file_and_line(tmp_path):
    (tmp_path / "config.yaml").write_text("seed: 0\noverlap:\n  tau: [0.05\ndecode:\n  short_side: 128\n")
    result = snakemake(tmp_path, "-n", check=False)
    assert result.returncode == 1
    assert "zsar: config.yaml line 4, column 7: not valid YAML" in result.stderr and "starts at line 3" in result.stderr
