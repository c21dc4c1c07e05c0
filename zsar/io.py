"""Reading and writing artefacts safely.

- Outputs appear complete or not at all (`atomic_output`), and a job killed mid-write leaves
  nothing behind that the next run of the same output does not clean up.
- A truncated or corrupt artefact is reported with its path and what to do (`open_h5`,
  `read_parquet`), never as a bare library error.
- Model and checkpoint files are data: `load_weights` unpickles tensors and plain containers only,
  so a file someone hands you cannot run code when zsar loads it.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import json
import os
import pickle
import socket
from collections.abc import Iterator
from pathlib import Path

TMP_MARK = ".tmp-"


def did_you_mean(name, known) -> str:
    """" (did you mean 'x'?)" for the closest of `known`, else ""."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, read once per version of the file (path, size, time) in a process."""
    stat = os.stat(path)
    return _sha256(os.path.abspath(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


class ArtefactError(OSError):
    """An artefact on disk cannot be read; the message names the file and says how to recover."""


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}{TMP_MARK}{socket.gethostname()}-{os.getpid()}")


def pid_alive(pid: int) -> bool:
    """Whether a process of this host has that id (zombies included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed writers of `path` left beside it; return them.

    A temporary of `path` is stale unless it belongs to a live process of this host other than
    this one. Temporaries of other hosts are stale too: Snakemake locks the working directory, so
    no other job writes the same output at the same time.
    """
    path = Path(path)
    removed = []
    host, me = socket.gethostname(), os.getpid()
    for candidate in path.parent.glob(f".{path.name}{TMP_MARK}*"):
        owner = candidate.name[len(f".{path.name}{TMP_MARK}"):]
        owner_host, _, pid = owner.rpartition("-")
        if owner_host == host and pid.isdigit() and int(pid) != me and pid_alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
            removed.append(candidate)
    return removed


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    A partial file therefore never carries the final name. Temporaries left by killed writers of
    the same output are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = _tmp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class YAMLFileError(ValueError):
    """A YAML file does not parse; the message names the file, the line and the column."""


def load_yaml(path):
    """The parsed content of a YAML file (config or manifest), or a YAMLFileError saying where it breaks."""
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context and start is not None and (mark is None or start.line != mark.line):
            context += f" that starts at line {start.line + 1}"
        raise YAMLFileError(f"{path}{where}: not valid YAML ({problem}{f', {context}' if context else ''}); "
                            "fix the file and run again") from None


def write_json(path, obj) -> None:
    """Deterministic JSON (sorted keys, fixed indent) written atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ArtefactError(_unreadable(path, f"not valid JSON ({error})")) from None


def _unreadable(path, why: str) -> str:
    return (f"{path}: {why}. The file is truncated or corrupt (a full disk, a copy stopped half-way?). "
            f"Delete it and run snakemake again to rebuild it.")


def open_h5(path):
    """An HDF5 artefact opened for reading, or an ArtefactError naming the file and the fix."""
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as error:
        if not Path(path).exists():
            raise
        raise ArtefactError(_unreadable(path, f"cannot be read as HDF5 ({error})")) from None


def read_parquet(path, **kwargs):
    """A parquet artefact, or an ArtefactError naming the file and the fix."""
    import pandas as pd
    import pyarrow

    try:
        return pd.read_parquet(path, **kwargs)
    except (pyarrow.ArrowInvalid, OSError) as error:
        if not Path(path).exists():
            raise
        raise ArtefactError(_unreadable(path, f"cannot be read as parquet ({error})")) from None


def load_weights(path, map_location="cpu", **kwargs):
    """A model or checkpoint file, unpickled with torch's weights-only loader.

    Such a file may hold tensors, numbers, strings and lists/dicts of them, nothing that runs code.
    Anything else is refused with the file's name: zsar never writes such a file.
    """
    import torch

    try:
        return torch.load(path, map_location=map_location, weights_only=True, **kwargs)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ArtefactError(
            f"{path}: refused to load: it holds objects other than tensors and plain containers, which "
            f"could run code when loaded ({first[:200]}). zsar never writes such a file; it was not made "
            f"by zsar, or has been tampered with. Delete it and run snakemake again to rebuild it."
        ) from None
    except (RuntimeError, EOFError) as error:  # a truncated zip archive or pickle
        if not Path(path).exists():
            raise
        raise ArtefactError(_unreadable(path, f"cannot be read by torch.load ({str(error)[:200]})")) from None


def read_user_tsv(path: str | os.PathLike, columns: list[str]) -> Iterator[tuple[int, list[str]]]:
    """The (line number, fields) of a hand-written TSV with header `columns`; `#` lines and blank lines skipped."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read it ({error})") from None
    header_seen = False
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [field.strip() for field in line.split("\t")]
        if not header_seen:
            if fields != columns:
                raise ValueError(f"{path}: line {number}: expected the header "
                                 f"{'<tab>'.join(columns)} (tab-separated), found {line.strip()!r}")
            header_seen = True
            continue
        if len(fields) != len(columns):
            missing = f"missing the column {columns[len(fields)]}" if len(fields) < len(columns) else \
                f"{len(fields)} tab-separated columns instead of {len(columns)}"
            raise ValueError(f"{path}: line {number}: {missing} (expected {'<tab>'.join(columns)})")
        if not fields[0]:
            raise ValueError(f"{path}: line {number}: the {columns[0]} is empty")
        yield number, fields
    if not header_seen:
        raise ValueError(f"{path}: no header; the first line that is not a comment must be "
                         f"{'<tab>'.join(columns)} (tab-separated)")


def read_list_tsv(path: str | os.PathLike, columns: list[str], *, separator: str, normalise, key: str,
                  items: str, if_none: str) -> dict[str, list[str]]:
    """{key: its items} of a hand-written TSV whose second column lists items separated by
    `separator` as written ("; ", " | "; surrounding spaces optional), each normalised, repeats
    dropped. Raises ValueError naming the file and line for a key given twice, a line without items
    (`if_none` says what to do) or an empty item. `key` and `items` name them in messages
    ("class", "phrases")."""
    out: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    for number, (name, text) in read_user_tsv(path, columns):
        if name in lines:
            raise ValueError(f"{path}: line {number}: {key} '{name}' is given twice (first on line "
                             f"{lines[name]}); give all its {items} on one line")
        values = [normalise(value) for value in text.split(separator.strip())]
        if not any(values):
            raise ValueError(f"{path}: line {number}: {key} '{name}' has no {items}; {if_none}")
        if not all(values):
            raise ValueError(f"{path}: line {number}: {key} '{name}' has an empty entry in {text!r}; "
                             f"separate {items} by '{separator}'")
        lines[name] = number
        out[name] = list(dict.fromkeys(values))
    return out


def main(argv=None) -> int:
    """`python -m zsar.io FILE...`: where each YAML file breaks, if it does (Snakemake names no line
    for a --configfile it cannot read)."""
    import sys

    paths = sys.argv[1:] if argv is None else argv
    broken = 0
    for path in paths:
        try:
            load_yaml(path)
            print(f"{path}: valid YAML")
        except (YAMLFileError, OSError) as error:
            broken += 1
            print(error if isinstance(error, YAMLFileError) else f"{path}: {error.strerror}")
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
