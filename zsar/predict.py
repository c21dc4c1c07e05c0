"""zsar-predict: label a folder of your videos with your own class names by a trained run.

    zsar-predict e2e_k664 ~/videos/garden classes.txt          # in the project folder (beside Snakefile)

It writes the two manifests a prediction reads, data_manifest/<videos>.yaml (a folder of videos,
linked under the data root when it lies elsewhere) and data_manifest/<classes>.yaml (the class list:
one name a line, or a TSV of class and description for methods that read descriptions), then asks
Snakemake for predictions/<run>/<videos>_<classes>.csv and its report page. The names default to the
folder's and the file's names, in lower-case letters and digits. A second class list over the same
folder reuses the videos' embeddings; an edited list re-embeds its names and predicts again.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

MARK = "# Written by zsar-predict; it rewrites this file when asked again under this name.\n"


class PredictError(ValueError):
    """A request the command refuses: the message says what to do."""


def dataset_name(text: str) -> str:
    name = re.sub("[^a-z0-9]", "", text.lower())
    if not name:
        raise PredictError(f"no name can be made of {text!r}: give one with --videos-name/--classes-name "
                           "(lower-case letters and digits)")
    return name


def read_classes(path: Path) -> list[dict]:
    """A class list file: one name a line (# comments and blank lines skipped), or, for a .tsv, a class
    and its description a line (a header `class<TAB>description` may come first)."""
    if not path.is_file():
        raise PredictError(f"{path}: no such class list; write one class name per line")
    classes, seen = [], {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t") if path.suffix == ".tsv" else ([line.rstrip("\n")] for line in handle)
        for line, row in enumerate(rows, 1):
            name = (row[0] if row else "").strip()
            if not name or name.startswith("#") or (line == 1 and name.lower() == "class" and path.suffix == ".tsv"):
                continue
            key = " ".join(name.casefold().split())
            if key in seen:
                raise PredictError(f"{path} line {line}: class '{name}' is listed twice (line {seen[key]}); list each once")
            seen[key] = line
            entry = {"name": name}
            if len(row) > 1 and row[1].strip():
                entry["description"] = row[1].strip()
            classes.append(entry)
    if not classes:
        raise PredictError(f"{path}: lists no class; write one class name per line")
    return classes


def write_manifest(path: Path, manifest: dict, what: str) -> None:
    """Write a manifest of zsar-predict's; refuse to overwrite one the user wrote."""
    if path.exists() and not path.read_text(encoding="utf-8").startswith(MARK):
        raise PredictError(f"{path} exists and was not written by zsar-predict: name the {what} otherwise "
                           f"(--{what}-name) or remove that file")
    text = MARK + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:  # an unchanged manifest reruns nothing
        path.write_text(text, encoding="utf-8")


def videos_manifest(folder: Path, name: str, data_root: Path) -> dict:
    """The folder's manifest; a folder outside the data root is linked there as data/<name>."""
    if not folder.is_dir():
        raise PredictError(f"{folder}: no such folder of videos")
    folder = folder.resolve()
    try:
        root = folder.relative_to(data_root.resolve()).as_posix()
    except ValueError:
        link = data_root / name
        if link.is_symlink() and link.resolve() != folder:
            raise PredictError(f"{link} links to {link.resolve()}, not {folder}: name the videos otherwise "
                               "(--videos-name) or remove the link")
        if not link.exists():
            data_root.mkdir(parents=True, exist_ok=True)
            link.symlink_to(folder, target_is_directory=True)
        elif not link.is_symlink() and link.resolve() != folder:
            raise PredictError(f"{link} exists: name the videos otherwise (--videos-name)")
        root = name
    return {"name": f"Videos of {folder.name}", "kind": "download", "layout_kind": "folder", "root": root,
            "video_extensions": [".mp4", ".avi", ".mkv", ".webm", ".mov"], "classes": [],
            "layout": "<any folders>/<video>\n", "obtain": f"Your videos, in {folder}."}


def classes_manifest(path: Path) -> dict:
    return {"name": f"Class list {path.name}", "kind": "download", "name_style": "plain", "stopwords": [],
            "replacements": {}, "layout": "(a class list: no videos)\n", "obtain": f"Written from {path}.",
            "classes": read_classes(path)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zsar-predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a run of config.yaml, trained or to be trained")
    parser.add_argument("videos", type=Path, help="a folder of videos, in any layout")
    parser.add_argument("classes", type=Path, help="a class list: one name a line, or a TSV of class and description")
    parser.add_argument("--videos-name", help="the folder's dataset name (default: from the folder's name)")
    parser.add_argument("--classes-name", help="the class list's name (default: from the file's name)")
    parser.add_argument("--top-k", type=int, default=5, help="classes kept per video (5)")
    parser.add_argument("--path", default="auto", help="the scoring path: auto (the method's own) or e.g. prototypes")
    parser.add_argument("--cores", default="all", help="Snakemake's --cores (all)")
    parser.add_argument("--dry-run", action="store_true", help="write the manifests and show what would run")
    args = parser.parse_args(argv)
    project = Path.cwd()
    try:
        if not (project / "Snakefile").is_file():
            raise PredictError(f"{project} has no Snakefile: run zsar-predict in the zsar project folder")
        config = yaml.safe_load((project / "config.yaml").read_text()) if (project / "config.yaml").is_file() else {}
        data_root = project / config.get("data_root", "data")
        videos = dataset_name(args.videos_name or args.videos.resolve().name)
        classes = dataset_name(args.classes_name or args.classes.stem)
        if videos == classes:
            raise PredictError(f"the videos and the class list would both be named {videos!r}: name one otherwise")
        manifests = project / "data_manifest"
        write_manifest(manifests / f"{videos}.yaml", videos_manifest(args.videos, videos, data_root), "videos")
        write_manifest(manifests / f"{classes}.yaml", classes_manifest(args.classes), "classes")
    except PredictError as error:
        print(f"zsar-predict: {error}", file=sys.stderr)
        return 2
    stem = f"{args.run}/{videos}_{classes}"
    targets = [f"predictions/{stem}.csv", f"plots/predictions/{stem}.html"]
    # The options over the project's config (--config would pass every value as a string).
    overlay = project / ".snakemake" / "zsar_predict.yaml"
    overlay.parent.mkdir(exist_ok=True)
    overlay.write_text(yaml.safe_dump({"predict": {**(config.get("predict") or {}), "top_k": args.top_k,
                                                   "path": args.path}}))
    configs = ["--configfile", *(["config.yaml"] if (project / "config.yaml").is_file() else []), str(overlay)]
    command = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), *(["-n"] if args.dry_run else []),
               *configs, "--", *targets]
    print("zsar-predict: " + " ".join(command[2:]), file=sys.stderr)
    status = subprocess.run(command, cwd=project).returncode
    if status == 0 and not args.dry_run:
        print(f"zsar-predict: {targets[0]} (each video's top {args.top_k}); the page: {targets[1]}, or in "
              "`snakemake --report report.html` under Predictions", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
