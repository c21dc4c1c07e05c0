"""The expensive stages' last good outputs (zsar/pipeline/reuse.py): kept beside them, taken back by a job with
the same key, never replaced by a job that did not finish."""

import os

import pytest

from zsar.pipeline import reuse
from zsar.pipeline.reuse import Kept, file_identity, job_key


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_file_written_again_with_the_same_content_keeps_its_key(tmp_path):
    table = write(tmp_path / "overlap.tsv", "class\tkept\na\tTrue\n")
    before = job_key([table], {"lr": 0.001})
    os.utime(table, (1, 1))
    write(table, "class\tkept\na\tTrue\n")  # rebuilt upstream, same bytes
    assert job_key([table], {"lr": 0.001}) == before
    assert job_key([table], {"lr": 0.01}) != before  # another setting (or code: a parameter too)
    write(table, "class\tkept\na\tFalse\n")
    assert job_key([table], {"lr": 0.001}) != before


def test_a_file_past_the_read_limit_is_known_by_its_size_and_time(tmp_path, monkeypatch):
    monkeypatch.setattr(reuse, "READ_LIMIT", 4)
    shard = write(tmp_path / "clips/0.h5", "many frames")
    assert file_identity(shard) == f"size 11 time {shard.stat().st_mtime_ns}"


def test_outputs_come_back_from_the_kept_ones_when_the_key_matches_and_only_then(tmp_path, capsys):
    model, history = write(tmp_path / "models/r/model.pt", "weights"), write(tmp_path / "models/r/history.csv", "epoch")
    Kept([model, history], "key-a").keep()
    assert (tmp_path / "models/r/.kept/model.pt").stat().st_ino == model.stat().st_ino  # a link, not a copy
    model.unlink(), history.unlink()  # Snakemake deletes a job's outputs when it starts

    assert not Kept([model, history], "key-b").restore() and not model.exists()
    assert Kept([model, history], "key-a").restore()
    assert model.read_text() == "weights" and history.read_text() == "epoch"
    assert "took those back" in capsys.readouterr().err


def test_the_kept_outputs_are_replaced_only_by_a_job_that_finished(tmp_path):
    model = write(tmp_path / "model.pt", "good")
    Kept([model], "good").keep()
    model.unlink()
    write(model, "half-trained")  # a job with another key that failed: it never calls keep()
    model.unlink()
    assert Kept([model], "good").restore() and model.read_text() == "good"
    write(model, "better")
    Kept([model], "better").keep()
    model.unlink()
    assert not Kept([model], "good").restore()
    assert Kept([model], "better").restore() and model.read_text() == "better"


@pytest.mark.parametrize("damage", ["record", "file"])
def test_a_damaged_store_is_no_match(tmp_path, damage):
    model = write(tmp_path / "model.pt", "good")
    kept = Kept([model], "k")
    kept.keep()
    model.unlink()
    if damage == "record":
        kept.record.write_text("{not json")
    else:
        (tmp_path / ".kept/model.pt").unlink()
    assert not kept.restore()
