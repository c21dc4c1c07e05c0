"""Early cutoff for the expensive stages (training, extraction, seen prototypes).

Snakemake reruns a stage whenever a file upstream was written again, even with the same content: a
refused setting put back, an upstream stage whose code changed without changing what it writes, a
deleted intermediate rebuilt. It also deletes a job's outputs when the job starts, so a training
that then fails would leave no model at all.

So a job of these stages keys itself by what it computes from: its parameters (settings and code,
rules/common.smk's track_code) and the content of its input files. On success it hard-links its
outputs into `.kept/` beside them (no second copy on disk) with the key. When a later job of the
same outputs has the same key, it links them back and is done in seconds; a job with another key
computes, and replaces what is kept only once it has succeeded. The last good outputs therefore
survive a failed or killed job until a new one is complete.

A file's content is its bytes' digest up to READ_LIMIT bytes; a larger file (a cache shard of
gigabytes) is known by its size and time, so a shard decoded again is extracted again.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from zsar.io import atomic_output, file_sha256

READ_LIMIT = 1 << 30  # 1 GiB: about a second to read


def file_identity(path) -> str:
    """A file's content digest, or for one over READ_LIMIT bytes its size and modification time."""
    stat = os.stat(path)
    if stat.st_size > READ_LIMIT:
        return f"size {stat.st_size} time {stat.st_mtime_ns}"
    return file_sha256(path)  # once per process: extraction records the model's hash too


def job_key(inputs, params: dict) -> str:
    """The key of a job: its parameters, and each input file by path and identity."""
    files = {str(path): file_identity(path) for path in inputs}
    record = json.dumps({"params": params, "inputs": files}, sort_keys=True, default=str)
    return hashlib.blake2b(record.encode(), digest_size=16).hexdigest()


def _kept(path: Path) -> Path:
    return path.parent / ".kept" / path.name


def _link(source: Path, destination: Path) -> None:
    """`destination` becomes another name of `source` (a copy where the file system has no hard links),
    replaced in one step."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(destination) as tmp:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copy2(source, tmp)


class Kept:
    """The last good outputs of one job, and the key they were computed with."""

    def __init__(self, outputs, key: str, log=None):
        self.outputs = [Path(p) for p in outputs]
        self.key = key
        self.record = _kept(self.outputs[0]).with_name(self.outputs[0].name + ".key.json")
        self.log = log or sys.stderr

    @classmethod
    def of(cls, snakemake, skip=(), log=None) -> Kept:
        """The kept outputs of a Snakemake job, keyed by its parameters and its inputs less those
        named in `skip` (inputs that parameters already stand for)."""
        skipped = set()
        for name in set(skip) & set(snakemake.input.keys()):
            value = snakemake.input[name]
            skipped |= {value} if isinstance(value, str) else set(value)
        params = {name: snakemake.params[name] for name in snakemake.params.keys()}
        return cls(list(snakemake.output), job_key([p for p in snakemake.input if p not in skipped], params), log)

    def restore(self) -> bool:
        """Put the kept outputs back if they were computed with this key; whether they were."""
        try:
            record = json.loads(self.record.read_text())
        except (OSError, ValueError):
            return False
        if record.get("key") != self.key or not all(_kept(p).is_file() for p in self.outputs):
            return False
        for path in self.outputs:
            _link(_kept(path), path)
            os.utime(path)  # newer than its inputs, as a job's outputs are
        print(f"zsar: the same inputs, settings and code as the outputs kept from {record.get('made', '?')}: "
              f"took those back ({', '.join(map(str, self.outputs))}). To compute them anew, delete "
              f"{self.record.parent}/ and run again.", file=self.log)
        return True

    def keep(self) -> None:
        """Keep the job's outputs (just written) as the last good ones, with this key."""
        self.record.unlink(missing_ok=True)  # never a record beside files it does not describe
        for path in self.outputs:
            _link(path, _kept(path))
        made = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        with atomic_output(self.record) as tmp:
            Path(tmp).write_text(json.dumps({"key": self.key, "made": made,
                                             "outputs": [str(p) for p in self.outputs]}, indent=1))
