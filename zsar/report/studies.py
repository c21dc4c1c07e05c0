"""Ablation studies: variants side by side, with their spread over splits and training seeds.

A study (config.yaml's `studies`, rules/studies.smk) names rows; each row is a score path (the
results JSON's `prototypes`, `e2e`, ...) of one run, or of several runs that differ only in their
training seed (replicates). For each of the study's targets (`synthetic_0_50`, ...) a row gets:

- top1: the mean over splits of the split's top-1 (%), averaged over the row's replicates;
- split_std: the standard deviation over splits (ddof=0, as every other zsar table), averaged
  over replicates; with one replicate it is the results JSON's top1.std;
- seed_std: the standard deviation (ddof=1) over replicates of their mean top-1; empty for one;
- n_splits, replicates;
- diff, diff_se: the paired difference against the reference row, split by split on the same
  splits (each split's top-1 averaged over replicates first), its mean and standard error
  (std ddof=1 / sqrt(n_splits)). Empty for the reference row; no standard error where a protocol
  has one split (0/100: all classes unseen), whose only spread is over seeds;
- diff_se_seeds: the standard error of diff with the training seed's noise added (_seed_se): a
  variant trained once differs from the reference by its seed as well as by its switch, which the
  splits cannot show. Claim an ordering on this one.

And, read from the seen classes only, so that a recipe may be chosen by them:
- seen_val_top1: the seen-class validation top-1 (%) of the epoch each run kept
  (models/{run}/model.json), averaged over replicates;
- {target} seen_composed_top1: the cross-validated top-1 (%) of prototypes composed for held-out
  seen classes from the other seen classes, at the chosen (epsilon, K, d)
  (prototypes/{run}/composition_{target}.json, compose.select: cv), averaged over replicates. It
  measures, without a target class, how well the run's embedding transfers by composition.

Every run of a study must have been scored on the same splits: each split's unseen classes are
compared, and a mismatch stops with the runs named.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from zsar.io import read_json


class StudyError(ValueError):
    """A study that cannot be tabulated: a missing path, or runs scored on different splits."""


def row_runs(row: dict) -> list[str]:
    """The runs of a study row: `runs` (replicates) or its one `run`."""
    return list(row["runs"]) if "runs" in row else [row["run"]]


def split_classes(result: dict, path: str) -> list[tuple[str, ...]]:
    """Per split, the unseen classes a path was scored on (the keys of its per-class top-1)."""
    return [tuple(sorted(split[path]["per_class_top1"])) for split in result["splits"]]


def _per_split(result: dict, path: str, where: str) -> np.ndarray:
    if path not in result or not result["splits"] or path not in result["splits"][0]:
        known = [k for k in result["splits"][0] if isinstance(result["splits"][0][k], dict)] if result["splits"] else []
        raise StudyError(f"{where} has no score path '{path}' (it has: {', '.join(known)})")
    return 100 * np.array([split[path]["top1"] for split in result["splits"]], dtype=np.float64)


def _seed_se(runs: list[str], reference_runs: list[str], replicates: np.ndarray, reference: np.ndarray) -> float:
    """The training seed's share of the standard error of a row's difference from the reference.

    Rows read from the reference's own runs (another score path of the same models) are paired over
    seeds too: the spread over replicates of their per-replicate differences. Other rows: each side's
    seed variance over its replicate count, a one-run row taking the reference's seed variance.
    NaN when the reference has a single run (nothing measures the seed's spread)."""
    if runs == reference_runs:
        per_seed = replicates.mean(axis=1) - reference.mean(axis=1)
        return float(per_seed.std(ddof=1) / math.sqrt(len(per_seed))) if len(per_seed) > 1 else math.nan
    if len(reference) < 2:
        return math.nan
    ref_var = float(reference.mean(axis=1).var(ddof=1))
    row_var = float(replicates.mean(axis=1).var(ddof=1)) if len(replicates) > 1 else ref_var
    return math.sqrt(ref_var / len(reference) + row_var / len(replicates))


def _mean_percent(values: list) -> float:
    return round(100 * float(np.mean(values)), 2) if values and None not in values else math.nan


def study_table(study: dict, results: dict[tuple[str, str], dict], models: dict[str, dict] | None = None,
                compositions: dict[tuple[str, str], dict] | None = None) -> pd.DataFrame:
    """The study's table, a row per study row. `results[(run, target)]` is that run's results JSON
    for the target (e.g. `synthetic_0_50`); `models[run]` its models/{run}/model.json and
    `compositions[(run, target)]` its composition selection, where given."""
    rows = study["rows"]
    reference = next(row for row in rows if row["variant"] == study["reference"])
    table = [{"variant": row["variant"], "run": ";".join(row_runs(row)), "replicates": len(row_runs(row)),
              "path": row["path"], "table": row.get("table", "")} for row in rows]
    for out, row in zip(table, rows):
        out["seen_val_top1"] = _mean_percent([models[run].get("val_top1") for run in row_runs(row)] if models else [])
        for target in study["targets"]:
            out[f"{target} seen_composed_top1"] = _mean_percent(
                [compositions[(run, target)].get("top1") for run in row_runs(row)] if compositions else [])
    for target in study["targets"]:
        per_row = []
        for row in rows:
            per_row.append([_per_split(results[(run, target)], row["path"], f"results/{run}/{target}.json")
                            for run in row_runs(row)])
        # Every run on the same splits as the reference row's first run.
        anchor = row_runs(reference)[0]
        anchor_classes = split_classes(results[(anchor, target)], reference["path"])
        for row in rows:
            for run in row_runs(row):
                classes = split_classes(results[(run, target)], row["path"])
                if classes != anchor_classes:
                    differ = [k for k, (a, b) in enumerate(zip(classes, anchor_classes)) if a != b]
                    what = (f"{len(classes)} splits against {len(anchor_classes)}" if len(classes) != len(anchor_classes)
                            else f"other unseen classes in split(s) {', '.join(map(str, differ[:5]))}")
                    raise StudyError(
                        f"study '{study['name']}', {target}: runs '{run}' and '{anchor}' were scored on different "
                        f"splits ({what}); a study compares runs on the same splits: build them with the same "
                        "splits settings and target world")
        per_row = [np.stack(replicates) for replicates in per_row]
        ref = per_row[rows.index(reference)].mean(axis=0)
        for out, row, replicates in zip(table, rows, per_row):
            means = replicates.mean(axis=1)
            n = replicates.shape[1]
            out[f"{target} top1"] = round(float(means.mean()), 2)
            out[f"{target} split_std"] = round(float(replicates.std(axis=1).mean()), 2)
            out[f"{target} seed_std"] = round(float(means.std(ddof=1)), 2) if len(means) > 1 else math.nan
            out[f"{target} n_splits"] = n
            if row is reference:
                out[f"{target} diff"] = out[f"{target} diff_se"] = out[f"{target} diff_se_seeds"] = math.nan
            else:
                diff = replicates.mean(axis=0) - ref
                out[f"{target} diff"] = round(float(diff.mean()), 2)
                split_se = float(diff.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
                out[f"{target} diff_se"] = round(split_se, 2)
                seeds_se = _seed_se(row_runs(row), row_runs(reference), replicates, per_row[rows.index(reference)])
                out[f"{target} diff_se_seeds"] = round(math.sqrt(np.nan_to_num(split_se) ** 2 + seeds_se ** 2), 2)
    for out, row in zip(table, rows):
        paper = row.get("paper") or {}
        out["paper"] = paper.get("value", math.nan)
        out["paper_setting"] = paper.get("setting", "")
        out["paper_source"] = paper.get("source", "")
    return pd.DataFrame(table)


def _number(value, fmt="{:.1f}") -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else fmt.format(value)


def markdown(study: dict, table: pd.DataFrame) -> str:
    """The table as markdown, for a README: top-1 ± split std (± seed std with replicates), the
    paired difference ± its standard error against the reference, and the paper's number."""
    targets = study["targets"]
    head = ["variant", "path", "paper's table", "seen val", "seen composed"]
    for target in targets:
        name = target.replace("_", " ", 1).replace("_", "/")
        head += [f"{name} top-1", f"{name} vs {study['reference']}"]
    head.append("paper")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.to_dict(orient="records"):
        cells = [r["variant"], f"`{r['path']}`", r["table"], _number(r["seen_val_top1"]),
                 _number(r[f"{targets[0]} seen_composed_top1"])]
        for target in targets:
            cell = f"{r[f'{target} top1']:.1f}"
            if r[f"{target} n_splits"] > 1:  # 0/100 has one split: no spread over splits
                cell += f" ± {r[f'{target} split_std']:.1f}"
            if r["replicates"] > 1:
                cell += f" (seeds ± {r[f'{target} seed_std']:.1f}, {r['replicates']} runs)"
            cells.append(cell)
            diff, se = r[f"{target} diff"], _number(r[f"{target} diff_se_seeds"]) or _number(r[f"{target} diff_se"])
            cells.append("reference" if r["variant"] == study["reference"] else
                         f"{diff:+.1f}" + (f" ± {se}" if se else ""))
        paper = _number(r["paper"])
        detail = "; ".join(text for text in (r["paper_setting"], r["paper_source"]) if text)
        if paper and detail:
            paper += f" ({detail})"
        cells.append(paper)
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    n = {int(table[f"{t} n_splits"].iloc[0]) for t in targets}
    lines.append("")
    lines.append(f"Top-1 (%): mean over {'/'.join(map(str, sorted(n)))} splits ± std over splits (seeds: std over "
                 "training seeds); against the reference: the mean paired difference over the same splits ± its "
                 "standard error, the training seed's noise included where replicates measure it. A protocol with one split (0/100) has no "
                 "spread over splits. Seen val: the seen-class validation top-1 (%) of the kept epoch; seen composed: the "
                 f"cross-validated top-1 (%) of prototypes composed for held-out seen classes ({targets[0]}'s "
                 "selection); both read seen classes only, the only scores a recipe may be chosen by.")
    return "\n".join(lines) + "\n"


def load_results(paths: dict) -> dict:
    """{key: JSON} from {key: its path}: the results JSONs by (run, target), the model.json by run."""
    return {key: read_json(path) for key, path in paths.items()}
