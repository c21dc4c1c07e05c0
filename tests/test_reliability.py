"""What zsar guarantees when inputs are wrong, jobs are killed or the project moves (docs/reliability.md)."""

import shutil
import sys

import pytest

from conftest import copy_workflow, snakemake, tiny_config, write_config
from test_workflow import planned_jobs

pytestmark = pytest.mark.workflow


def test_a_tau_that_removes_every_source_class_stops_at_the_overlap_stage_and_keeps_the_model(tiny_run_copy):
    model = tiny_run_copy / "models/e2e_synthetic/model.pt"
    before = (model.read_bytes(), model.stat().st_mtime_ns)
    write_config(tiny_run_copy / "config.yaml", tiny_config(overlap={"tau": 2}))
    result = snakemake(tiny_run_copy, check=False)
    assert result.returncode != 0
    assert ("overlap.tau = 2 keeps 0 of the 30 synthkinetics classes when protecting synthetic: a run needs at "
            "least 2 training classes") in result.stdout + result.stderr
    assert "rule filter_overlap:" in result.stderr and "rule train_model:" not in result.stderr
    assert (model.read_bytes(), model.stat().st_mtime_ns) == before


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
