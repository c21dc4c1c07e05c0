"""Diagnostic: which seen-class score ranks trained models as their target accuracy does? (issue 17)

    .venv/bin/python benchmarks/recipe_proxies.py [--dir work/study_world] [--protocol synthetic_0_50]
        [--path prototypes] [--runs RUN ...]

A recipe (model size, epochs, learning rate) may be chosen by scores read from the seen classes
only. Two are on disk for every trained run:

    seen val       the seen-class validation top-1 of the kept epoch (models/{run}/model.json);
    seen composed  the cross-validated top-1 of prototypes composed for held-out seen classes from
                   the other seen classes, at the chosen (epsilon, K, d)
                   (prototypes/{run}/composition_{protocol}.json; compose.select: cv).

For every run of the working directory that has both and a results JSON for the protocol, this
prints them beside the target top-1 of one score path (results/{run}/{protocol}.json), and the
Spearman rank correlation of each score with the target top-1: over all runs, and over each method's
runs alone. It reads target accuracy, so it is a diagnosis run by hand, never a selection: nothing in
the pipeline reads its output.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

from zsar.io import read_json


def table(root: Path, protocol: str, path: str, runs: list[str] | None = None) -> pd.DataFrame:
    rows = []
    for model in sorted((root / "models").glob("*/model.json")):
        run = model.parent.name
        result = root / "results" / run / f"{protocol}.json"
        composition = root / "prototypes" / run / f"composition_{protocol}.json"
        if (runs and run not in runs) or not (result.exists() and composition.exists()):
            continue
        info, scored = read_json(model), read_json(result)
        if path not in scored:
            continue
        rows.append({"run": run, "method": info["method"], "seen_val": 100 * info["val_top1"],
                     "seen_composed": 100 * read_json(composition)["top1"],
                     "target": 100 * scored[path]["top1"]["mean"]})
    return pd.DataFrame(rows)


def correlations(frame: pd.DataFrame) -> pd.DataFrame:
    groups = [("all", frame), *((method, part) for method, part in frame.groupby("method"))]
    out = []
    for name, part in groups:
        if len(part) < 3:
            continue
        row = {"runs": name, "n": len(part)}
        for score in ("seen_val", "seen_composed"):
            rho, p = spearmanr(part[score], part["target"])
            row[f"{score} rho"], row[f"{score} p"] = round(float(rho), 2), round(float(p), 3)
        out.append(row)
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="work/study_world", type=Path, help="a working directory")
    parser.add_argument("--protocol", default="synthetic_0_50")
    parser.add_argument("--path", default="prototypes", help="the score path read as the target top-1")
    parser.add_argument("--runs", nargs="*", help="only these runs (default: every finished run)")
    args = parser.parse_args()
    frame = table(args.dir, args.protocol, args.path, args.runs)
    if frame.empty:
        raise SystemExit(f"no finished run in {args.dir} has models/*/model.json, "
                         f"prototypes/*/composition_{args.protocol}.json and results/*/{args.protocol}.json")
    print(frame.round(1).to_string(index=False))
    print()
    print(f"Spearman rank correlation with the target top-1 ({args.path}, {args.protocol}):")
    print(correlations(frame).to_string(index=False))


if __name__ == "__main__":
    main()
