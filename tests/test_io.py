"""Artefacts on disk: weights-only loading, named errors for broken files, no debris from killed jobs."""

import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch

from zsar.io import ArtefactError, YAMLFileError, atomic_output, load_weights, load_yaml, open_h5
from zsar.io import main as io_main
from zsar.models.extract import load_model


class _Payload:
    """What an attacker's model.pt holds: unpickling it creates a file."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


def test_a_model_file_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    sentinel = tmp_path / "pwned"
    for name, content in (("model.pt", {"method": "e2e", "state_dict": {}, "hook": _Payload(sentinel)}),
                          ("checkpoint.pt", _Payload(sentinel))):
        torch.save(content, tmp_path / name)
        with pytest.raises(ArtefactError, match=rf"{tmp_path / name}: refused to load"):
            load_weights(tmp_path / name)
        assert not sentinel.exists()
    with pytest.raises(ArtefactError, match="model.pt: refused to load"):
        load_model(tmp_path / "model.pt")
    assert not sentinel.exists()


def test_truncated_artefacts_are_named_with_what_to_do(tmp_path):
    with h5py.File(tmp_path / "seen.h5", "w") as f:
        f.create_dataset("prototypes", data=np.zeros((100, 64), np.float32))
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, tmp_path / "model.pt")
    for name in ("seen.h5", "model.pt"):
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtefactError, match=rf"{tmp_path / 'seen.h5'}: cannot be read as HDF5 .* Delete it and run snakemake again"):
        open_h5(tmp_path / "seen.h5")
    with pytest.raises(ArtefactError, match=rf"{tmp_path / 'model.pt'}: cannot be read by torch.load .* Delete it"):
        load_weights(tmp_path / "model.pt")


def test_a_killed_writer_leaves_debris_that_the_next_write_of_that_output_removes(tmp_path):
    out = tmp_path / "clips/0.h5"
    script = ("import os, sys; from zsar.io import atomic_output\n"
              "with atomic_output(sys.argv[1]) as tmp:\n"
              "    tmp.write_bytes(b'partial'); os.kill(os.getpid(), 9)\n")
    subprocess.run([sys.executable, "-c", script, str(out)], check=False)
    debris = list(out.parent.glob(".0.h5.tmp-*"))
    assert len(debris) == 1 and not out.exists()  # a partial file never has the final name
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # A live writer's temporary of this output, and a temporary of another output, are kept.
        import socket
        live_tmp = out.parent / f".0.h5.tmp-{socket.gethostname()}-{live.pid}"
        other = out.parent / f".1.h5.tmp-{socket.gethostname()}-999999999"
        live_tmp.write_bytes(b"")
        other.write_bytes(b"")
        with atomic_output(out) as tmp:
            tmp.write_bytes(b"complete")
        assert out.read_bytes() == b"complete"
        assert not debris[0].exists() and live_tmp.exists() and other.exists()
    finally:
        live.kill()
        live.wait()


def test_a_yaml_error_names_the_file_and_the_line(tmp_path):
    (tmp_path / "config.yaml").write_text("seed: 0\noverlap:\n  tau: [0.05\ndecode:\n  short_side: 128\n")
    with pytest.raises(YAMLFileError, match=r"config.yaml line \d+, column \d+: not valid YAML .*starts at line 3"):
        load_yaml(tmp_path / "config.yaml")


def test_python_m_zsar_io_names_the_line_where_a_config_file_breaks(tmp_path, capsys):
    """Snakemake reads a --configfile before the workflow's code runs and names no line; this does."""
    bad = tmp_path / "study.yaml"
    bad.write_text("seed: 0\noverlap:\n  tau: [0.05\ndecode:\n  short_side: 128\n")
    good = tmp_path / "good.yaml"
    good.write_text("seed: 0\n")
    assert io_main([str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{good}: valid YAML" in out and f"{bad} line 4, column 7: not valid YAML" in out
