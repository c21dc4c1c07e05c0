"""A method of one's own (docs/adding_a_method.md): a package outside zsar, named by a run's `method`.

tests/toy_method/toylinear is the whole method: its spec and its model. Adding it touches nothing
of zsar's; the run's config entry is all the workflow needs.
"""

from pathlib import Path

import pytest
import yaml

from conftest import snakemake, write_config
from test_workflow import planned_jobs
from zsar.io import read_json

TOY = Path(__file__).resolve().parent / "toy_method"
RUN = {"method": "toylinear", "source": "synthkinetics", "targets": ["synthetic"], "embedding": "glove50"}


def test_a_fourth_method_in_its_own_package_runs_through_the_dag(tiny_run_copy):
    config = yaml.safe_load((tiny_run_copy / "config.yaml").read_text())
    config["runs"]["toy_synthetic"] = RUN
    write_config(tiny_run_copy / "config.yaml", config)
    target = "results/toy_synthetic/synthetic_0_50.json"
    planned = planned_jobs(snakemake(tiny_run_copy, "-n", target, python_path=TOY))
    assert planned["train_model"] == 1  # its own model; the world, caches and semantics are reused
    assert not {"render_synthetic", "decode_clips", "embed_classes"} & set(planned)
    snakemake(tiny_run_copy, target, python_path=TOY)
    result = read_json(tiny_run_copy / target)
    assert result["method"] == "toylinear" and result["config"]["model"] == {"pool": 4}
    assert result["config"]["sampling"] == {"frames": 4, "stride": 2, "crop": 28, "test_clips": 2}  # its preset
    # scored by its word vectors (its spec's scores) and by composed prototypes, as every method is
    for path in ("e2e", "prototypes"):
        assert 0 <= result[path]["top1"]["mean"] <= 1 and result[path]["top1"]["mean"] >= 0
    history = (tiny_run_copy / "models/toy_synthetic/history.csv").read_text().splitlines()
    assert len(history) == 1 + 3  # header and its 3 epochs


def test_a_method_that_is_no_package_is_refused_naming_the_known_ones(tmp_path):
    from conftest import tiny_config

    config = tiny_config()
    config["runs"]["toy_synthetic"] = {**RUN, "method": "toylinaer"}
    config["summary_runs"] = ["toy_synthetic"]
    write_config(tmp_path / "config.yaml", config)
    result = snakemake(tmp_path, "-n", check=False, python_path=TOY)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "run 'toy_synthetic' in config.yaml: unknown method 'toylinaer': no such package; use one of clip, e2e, jigsaw" \
        in result.stderr
