"""Dataset manifests: data_manifest/<dataset>.yaml describes each dataset as facts.

A manifest names the dataset, says whether the pipeline renders it (the embedded synthetic
world) or the user downloads it, lists its classes where the project carries them, and
describes the layout expected under `<data_root>/<dataset>/`.
"""

from __future__ import annotations

from pathlib import Path

from zsar.io import YAMLFileError, load_yaml

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "data_manifest"


class ManifestError(ValueError):
    """A manifest is missing or malformed; the message names the file and the field."""


def workflow_manifests(scriptdir) -> Path:
    """The manifests of the workflow a script belongs to: data_manifest/ beside workflow_scripts/."""
    return Path(scriptdir).parent / "data_manifest"


def manifest_path(dataset: str, manifest_dir: Path = MANIFEST_DIR) -> Path:
    return Path(manifest_dir) / f"{dataset}.yaml"


def load_manifest(dataset: str, manifest_dir: Path = MANIFEST_DIR) -> dict:
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
    manifest["id"] = dataset
    manifest["_path"] = str(path)
    return manifest


def class_names(manifest: dict) -> list[str]:
    """Class names as the dataset writes them, in manifest order; checked for duplicates and blanks."""
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
        f"('{data_root}', config key data_root) as shown (README.md, 'Real datasets'), then run "
        "again.\n\n" + "\n".join(parts)
    )
