"""Dataset manifests: data_manifest/<dataset>.yaml describes each dataset as facts.

A manifest names the dataset, says whether the pipeline renders it (the embedded synthetic
world) or the user downloads it, lists its classes where the project carries them, and
describes the layout expected under `<data_root>/<dataset>/`.

A dataset of the user's own (layout_kind `csv`, data_manifest/templates/custom.yaml) keeps its
class list beside its videos: `classes_file` names a text file under `<data_root>/<dataset>/`, one
class name per line, which `load_manifest` reads into `classes` when it is given the data root.
The class list is then part of the manifest like any other, so its digest (rules/common.smk)
changes when the file does. A class file that is not there yet leaves `classes` unset: the run
stops on the missing data first (`missing_data_message`, which names the file), and
`class_names` names it too.
"""

from __future__ import annotations

import re
from pathlib import Path

from zsar.io import YAMLFileError, load_yaml

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "data_manifest"
# Dataset names appear in file names joined by "_" (semantic/<embedding>/<source>_minus_<t1>_<t2>.tsv)
# and in the DAG's wildcards (rules/common.smk), so they are lower-case letters and digits.
DATASET_NAME = re.compile(r"[a-z0-9]+")


class ManifestError(ValueError):
    """A manifest is missing or malformed; the message names the file and the field."""


def workflow_manifests(scriptdir) -> Path:
    """The manifests of the workflow a script belongs to: data_manifest/ beside workflow_scripts/."""
    return Path(scriptdir).parent / "data_manifest"


def manifest_path(dataset: str, manifest_dir: Path = MANIFEST_DIR) -> Path:
    return Path(manifest_dir) / f"{dataset}.yaml"


def load_manifest(dataset: str, manifest_dir: Path = MANIFEST_DIR, data_root: str | Path | None = None) -> dict:
    """The manifest of `dataset`, with `id` and `_path` added.

    With `data_root`, a manifest's `classes_file` (under `<data_root>/<dataset>/`) is read into
    `classes`; its files (`classes_file`, and `annotations_file` for layout_kind csv) are added
    to `required`.
    """
    path = manifest_path(dataset, manifest_dir)
    if not path.exists():
        known = sorted(p.stem for p in Path(manifest_dir).glob("*.yaml"))
        raise ManifestError(
            f"no manifest for dataset '{dataset}': {path} does not exist. "
            f"Known datasets: {', '.join(known)}."
        )
    try:
        manifest = load_yaml(path)
    except YAMLFileError as error:
        raise ManifestError(str(error)) from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path}: expected a mapping of fields (name, kind, layout, classes...)")
    for field in ("name", "kind", "layout"):
        if field not in manifest:
            raise ManifestError(f"{path}: required field '{field}' is missing")
    if manifest["kind"] not in ("rendered", "download"):
        raise ManifestError(f"{path}: kind must be 'rendered' or 'download', not {manifest['kind']!r}")
    if not DATASET_NAME.fullmatch(dataset):
        raise ManifestError(
            f"{path}: a dataset's name (its manifest's file name) must be lower-case letters and digits only, "
            f"not '{dataset}'; rename the file, e.g. to {re.sub('[^a-z0-9]', '', dataset.lower()) or 'mydata'}.yaml"
        )
    manifest["id"] = dataset
    manifest["_path"] = str(path)
    if "classes_file" in manifest or manifest.get("layout_kind") == "csv":
        _user_files(manifest, data_root)
    return manifest


def _user_files(manifest: dict, data_root: str | Path | None) -> None:
    """A user's dataset: its files become required, and its class list file is read when it is there."""
    where = manifest["_path"]
    files = {key: manifest.get(key, default) for key, default in (("classes_file", None),
                                                                   ("annotations_file", "annotations.csv"))}
    if manifest.get("layout_kind") != "csv":
        del files["annotations_file"]
    for key, rel in files.items():
        if not isinstance(rel, str) or not rel.strip() or Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise ManifestError(f"{where}: {key} must name a file under the dataset's folder, such as "
                                f"{'classes.txt' if key == 'classes_file' else 'annotations.csv'}, not {rel!r}")
    if "classes" in manifest and "classes_file" in manifest:
        raise ManifestError(f"{where}: give the classes either as a list (classes) or as a file (classes_file), "
                            "not both; remove one of them")
    required = list(manifest.get("required") or [])
    manifest["required"] = required + [rel for rel in files.values() if rel not in required]
    if "classes_file" not in manifest or data_root is None:
        return
    classes_path = Path(data_root) / manifest["id"] / manifest["classes_file"]
    manifest["_classes_path"] = str(classes_path)
    if classes_path.is_file():
        manifest["classes"] = read_class_list(classes_path)


def read_class_list(path: str | Path) -> list[str]:
    """A class list file: one class name per line as the annotations write it; blank lines and
    comment lines (starting with #) are skipped.

    Raises ManifestError naming the file and line for a class listed twice, or two names that
    differ only in case or spacing (they would be one class to the word vectors).
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # -sig: files saved by spreadsheet programs
    except UnicodeDecodeError as error:
        raise ManifestError(f"{path}: not UTF-8 text ({error}); save the class list as UTF-8") from None
    names: list[str] = []
    seen: dict[str, tuple[int, str]] = {}  # case-folded name -> (line, name as written)
    for line, raw in enumerate(text.splitlines(), 1):
        name = raw.strip()
        if not name or name.startswith("#"):
            continue
        key = " ".join(name.casefold().split())
        if key in seen:
            first, written = seen[key]
            same = (f"is listed twice (first on line {first})" if written == name
                    else f"and line {first} '{written}' differ only in case or spacing")
            raise ManifestError(f"{path} line {line}: class '{name}' {same}; "
                                "list each class once: remove or rename one of them")
        seen[key] = (line, name)
        names.append(name)
    if not names:
        raise ManifestError(f"{path}: lists no class; write one class name per line")
    return names


def class_names(manifest: dict) -> list[str]:
    """Class names as the dataset writes them, in manifest order; checked for duplicates and blanks."""
    if "classes" not in manifest and "classes_file" in manifest:
        if "_classes_path" not in manifest:
            raise ManifestError(f"{manifest['_path']}: its classes are in {manifest['classes_file']} under the "
                                "dataset's folder, which was not read: load the manifest with its data_root")
        raise ManifestError(f"{manifest['_classes_path']} is missing: {manifest['_path']} says (classes_file) that "
                            "the class list is there; write it, one class name per line, as the annotations "
                            "write the labels")
    if "classes" not in manifest:
        raise ManifestError(
            f"{manifest['_path']}: this manifest carries no class list yet, so the semantic "
            "stage cannot embed its classes."
        )
    names = [c["name"] if isinstance(c, dict) else c for c in manifest["classes"]]
    seen: dict[str, tuple[int, str]] = {}  # case-folded name -> (position, name as written)
    for line, name in enumerate(names, 1):
        if not isinstance(name, str) or not name.strip():
            raise ManifestError(f"{manifest['_path']}: class #{line} has an empty name")
        key = " ".join(name.casefold().split())
        if key in seen:
            first, written = seen[key]
            same = "is listed twice" if written == name else f"and class #{first} '{written}' differ only in case or spacing"
            raise ManifestError(f"{manifest['_path']}: class #{line} '{name}' {same}; "
                                "a class name must be listed once, so remove or rename one of them")
        seen[key] = (line, name)
    return names


def missing_data(manifest: dict, data_root: str | Path) -> list[str]:
    """Paths the manifest requires under <data_root>/<dataset>/ that are not on disk."""
    if manifest["kind"] == "rendered":
        return []
    root = Path(data_root) / manifest["id"]
    return [str(root / rel) for rel in manifest.get("required", []) if not (root / rel).exists()]


def missing_data_message(manifests: list[dict], data_root: str | Path) -> str | None:
    """One message for every dataset a target needs but the disk lacks, or None."""
    parts = []
    for manifest in manifests:
        missing = missing_data(manifest, data_root)
        if missing:
            root = Path(data_root) / manifest["id"]
            parts.append(
                f"{manifest['name']} is not on disk: expected under {root}/ but missing\n"
                + "".join(f"    {m}\n" for m in missing)
                + f"  Expected layout ({manifest['_path']}):\n"
                + "".join(f"    {line}\n" for line in manifest["layout"].strip().splitlines())
                + (f"  How to get it: {manifest['obtain'].strip()}\n" if "obtain" in manifest else "")
            )
    if not parts:
        return None
    return (
        "Missing datasets. Put each dataset under the data root "
        f"('{data_root}', config key data_root) as shown (docs/data.md, 'Real datasets'), then run "
        "again.\n\n" + "\n".join(parts)
    )
