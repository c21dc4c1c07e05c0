"""Diagnostic: is ResT's cross-validation over the seen classes a good proxy for the target accuracy
of the (epsilon, K, d) it chooses? (issue 17)

    .venv/bin/python benchmarks/composition_cv.py RUN TARGET_SEEN_UNSEEN [RUN TARGET_SEEN_UNSEEN ...]
    .venv/bin/python benchmarks/composition_cv.py e2e_synthetic synthetic_0_50 rest_synthetic synthetic_0_50

Reads a finished run's artefacts: prototypes/{run}/composition.json (every grid point's seen-class
CV top-1, as select_composition computed it), prototypes/{run}/seen.h5, the target's test-video
embeddings (features/{run}/{target}.h5), the class-name vectors and the splits. For every grid point
it composes the unseen prototypes of every split (constraints I+II+III, as the `prototypes` path)
and scores the target videos by the nearest one, as score_splits does.

This looks at target accuracy over the whole grid, which selection must never do: it is a
diagnosis of the selection rule, run by hand, and nothing in the pipeline reads its output.

Prints, per run: the Spearman rank correlation between CV top-1 and target top-1 over the grid
points, the target top-1 of CV's choice, of the best grid point in hindsight, and their
difference (the accuracy the selection rule loses), and the grid points side by side.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.stats import spearmanr

from zsar.features import read_features
from zsar.metrics import unit
from zsar.prototypes import compose, read_seen_prototypes
from zsar.semantics import read_class_embedding
from zsar.splits import read_splits


def target_accuracy(run: str, result: str, grid: list[dict]) -> list[float]:
    """Mean top-1 over the splits of `result` (e.g. synthetic_0_50) for each grid point."""
    target = result.rsplit("_", 2)[0]
    settings = json.load(open(f"results/{run}/{result}.json"))["config"]
    embedding = settings["embedding"]
    seen_classes, seen = read_seen_prototypes(f"prototypes/{run}/seen.h5")
    seen_vectors = read_class_embedding(f"semantic/{embedding}/{settings['source']}.h5").vectors_of(seen_classes)
    target_vectors = read_class_embedding(f"semantic/{embedding}/{target}.h5")
    table, embeddings = read_features(f"features/{run}/{target}.h5")
    x = unit(embeddings)
    splits = read_splits(f"splits/{result}.json")["splits"]
    scores = []
    for point in grid:
        top1 = []
        for unseen in splits:
            S = target_vectors.vectors_of(unseen) @ seen_vectors.T
            protos, _, _ = compose(S.astype(np.float64), seen.astype(np.float64), K=point["K"], d=point["d"],
                                   epsilon=point["epsilon"])
            members = table["label"].isin(unseen).to_numpy()
            truth = table.loc[members, "label"].map({c: i for i, c in enumerate(unseen)}).to_numpy()
            top1.append(float(((x[members] @ protos.T).argmax(axis=1) == truth).mean()))
        scores.append(float(np.mean(top1)))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="+", help="RUN TARGET_SEEN_UNSEEN, repeated")
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give runs and results in pairs: RUN TARGET_SEEN_UNSEEN")
    for run, result in zip(args.pairs[::2], args.pairs[1::2]):
        selection = json.load(open(f"prototypes/{run}/composition.json"))
        grid, chosen = selection["grid"], selection["chosen"]
        cv = np.array([p["top1"] for p in grid])
        target = np.array(target_accuracy(run, result, grid))
        pick = next(i for i, p in enumerate(grid) if all(p[k] == chosen[k] for k in ("epsilon", "K", "d")))
        rho = spearmanr(cv, target).statistic
        print(f"\n{run} on {result}: {len(grid)} grid points, {selection['folds']}-fold CV over the seen classes")
        print(f"  Spearman rho (CV top-1, target top-1) = {rho:.2f}")
        print(f"  CV's choice eps={chosen['epsilon']} K={chosen['K']} d={chosen['d']}: "
              f"target top-1 {100 * target[pick]:.1f}")
        best = int(target.argmax())
        print(f"  best grid point in hindsight eps={grid[best]['epsilon']} K={grid[best]['K']} d={grid[best]['d']}: "
              f"{100 * target[best]:.1f}; lost by the selection rule: {100 * (target[best] - target[pick]):.1f} points")
        print(f"  target top-1 over the grid: median {100 * np.median(target):.1f}, "
              f"min {100 * target.min():.1f}, max {100 * target.max():.1f}")
        print("  eps    K   d   CV top-1  target top-1")
        for p, c, t in sorted(zip(grid, cv, target), key=lambda r: -r[1])[:10]:
            print(f"  {p['epsilon']:<5}  {p['K']:<3} {p['d']:<3} {100 * c:8.1f}  {100 * t:12.1f}")


if __name__ == "__main__":
    main()
