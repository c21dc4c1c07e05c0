"""Diagnostic: how good are the selection rules for ResT's (epsilon, K, d), judged by the target
accuracy of the point each one chooses? (issue 17)

    .venv/bin/python benchmarks/composition_cv.py RUN TARGET_SEEN_UNSEEN [RUN TARGET_SEEN_UNSEEN ...]
    .venv/bin/python benchmarks/composition_cv.py e2e_synthetic synthetic_0_50 rest_synthetic synthetic_0_50
    .venv/bin/python benchmarks/composition_cv.py --repeats 20 --folds 5 --seed 0 --verbose e2e_synthetic synthetic_0_50

Reads a finished run's artefacts: prototypes/{run}/seen.h5, the seen classes' held-out (val) video
embeddings (features/{run}/{source}_seen.h5), the class-name vectors, the splits, and the target's
test-video embeddings (features/{run}/{target}.h5). It runs both selection rules of
zsar.zeroshot.prototypes.select_composition on the seen classes only, as select_composition does:

    best    ResT's protocol: 5-fold cross-validation, the best mean top-1 (ties: grid order);
    one_se  rounds holding out as many seen classes as the protocol has unseen classes (at most
            half the seen classes, at least 2), 20 seeded random rounds, and the one-standard-error
            rule (smallest d, then smallest K, then largest epsilon among the points within one
            standard error of the best mean).

Then, for every grid point, it composes the unseen prototypes of every split (constraints I+II+III,
as the `prototypes` path) and scores the target videos by the nearest one, as score_splits does.

This looks at target accuracy over the whole grid, which selection must never do: it is a
diagnosis of the selection rules, run by hand, and nothing in the pipeline reads its output. The
rules themselves receive seen-class data and the protocol's unseen-class count only.

Prints one row per run and protocol: the target top-1 of each rule's choice, of the best grid point
in hindsight, each rule's loss against it, and the Spearman rank correlation of each rule's CV
score with the target top-1 over the grid points; then the mean loss of each rule over all rows.
--ablations also prints the two halves of one_se apart: its protocol-sized repeated rounds with
the best mean (no one-SE rule), and ResT's 5 folds with the one-SE rule. They are diagnoses of
where the loss comes from; choosing a rule by them would be choosing it on target accuracy.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.stats import spearmanr

from zsar.io import read_parquet
from zsar.semantics.embedding import read_class_embedding
from zsar.zeroshot.features import read_features
from zsar.zeroshot.metrics import unit
from zsar.zeroshot.prototypes import choose_best, choose_one_se, compose, cv_videos, read_seen_prototypes, select_composition
from zsar.zeroshot.splits import read_splits

KEYS = ("epsilon", "K", "d")


def seen_data(run: str, settings: dict):
    """What select_composition reads: the seen prototypes, their class vectors, and the embeddings
    and class rows of the videos cross-validation labels."""
    classes, prototypes = read_seen_prototypes(f"prototypes/{run}/seen.h5")
    source = settings["source"]
    videos, embeddings = read_features(f"features/{run}/{source}_seen.h5")
    split = videos.merge(read_parquet(f"index/{source}.parquet")[["video_id", "split"]], on="video_id",
                         how="left")["split"]
    held_out, _ = cv_videos(videos, split, classes)
    labels = videos.loc[held_out, "label"].map({c: k for k, c in enumerate(classes)}).to_numpy()
    vectors = read_class_embedding(f"semantic/{settings['embedding']}/{source}.h5").vectors_of(classes)
    return prototypes.astype(np.float64), vectors.astype(np.float64), embeddings[held_out], labels


def target_accuracy(run: str, result: str, settings: dict, grid: list[dict]) -> np.ndarray:
    """Mean top-1 over the splits of `result` (e.g. synthetic_0_50) for each grid point."""
    target = result.rsplit("_", 2)[0]
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
    return np.array(scores)


def index_of(grid: list[dict], point: dict) -> int:
    return next(i for i, p in enumerate(grid) if all(p[k] == point[k] for k in KEYS))


def point(p: dict) -> str:
    return f"{p['epsilon']}/{p['K']}/{p['d']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="+", help="RUN TARGET_SEEN_UNSEEN, repeated")
    parser.add_argument("--folds", type=int, default=5, help="the best rule's folds (ResT: 5)")
    parser.add_argument("--repeats", type=int, default=20, help="the one_se rule's rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="also print each pair's top grid points")
    parser.add_argument("--ablations", action="store_true",
                        help="also score repeated rounds + best mean, and 5 folds + one-SE rule")
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give runs and results in pairs: RUN TARGET_SEEN_UNSEEN")
    rules = ("best", "one_se")
    rows = []
    for run, result in zip(args.pairs[::2], args.pairs[1::2]):
        settings = json.load(open(f"results/{run}/{result}.json"))["config"]
        grid = settings["compose"]["grid"]
        grid = {k: grid[k] for k in KEYS}
        data = seen_data(run, settings)
        n_unseen = int(read_splits(f"splits/{result}.json")["n_unseen"])  # what the pipeline's rule reads
        records = {rule: select_composition(*data, grid, n_unseen=n_unseen, rule=rule, repeats=args.repeats,
                                            folds=args.folds, seed=args.seed) for rule in rules}
        points = records["best"]["grid"]
        target = target_accuracy(run, result, settings, points)
        best = int(target.argmax())
        row = {"run": run, "result": result, "n_seen": records["one_se"]["n_seen"],
               "held_out": records["one_se"]["held_out"], "hindsight": 100 * target[best],
               "hindsight_point": point(points[best])}
        for rule in rules:
            pick = index_of(records[rule]["grid"], records[rule]["chosen"])
            cv = np.array([p["top1"] for p in records[rule]["grid"]])
            row[rule] = 100 * target[pick]
            row[f"{rule}_point"] = point(records[rule]["chosen"])
            row[f"{rule}_loss"] = 100 * (target[best] - target[pick])
            row[f"{rule}_rho"] = spearmanr(cv, target).statistic
        for name, rule, choose in (("repeated_best", "one_se", choose_best), ("folds_one_se", "best", choose_one_se)):
            pick = index_of(records[rule]["grid"], choose(records[rule]["grid"]))
            row[name], row[f"{name}_loss"] = 100 * target[pick], 100 * (target[best] - target[pick])
        rows.append(row)
        if args.verbose:
            print(f"\n{run} on {result}: {len(points)} grid points; one_se holds out {row['held_out']} of "
                  f"{row['n_seen']} seen classes")
            print("  eps    K   d   5-fold CV  repeated CV +- SE  target top-1")
            ses = records["one_se"]["grid"]
            for k in sorted(range(len(points)), key=lambda k: -ses[k]["top1"])[:12]:
                print(f"  {points[k]['epsilon']:<5}  {points[k]['K']:<3} {points[k]['d']:<3} "
                      f"{100 * points[k]['top1']:9.1f}  {100 * ses[k]['top1']:11.1f} +- {100 * ses[k]['se']:3.1f}"
                      f"  {100 * target[k]:12.1f}")
    print(f"\nTarget top-1 of the point each rule chooses (eps/K/d), against the best grid point in hindsight;"
          f"\nrho: Spearman correlation of the rule's CV score with target top-1 over the grid points."
          f"\nbest: {args.folds}-fold CV, best mean; one_se: {args.repeats} random rounds holding out the "
          f"protocol's unseen count (cap: half the seen classes), one-SE rule.\n")
    header = (f"{'run':<32} {'protocol':<16} {'best':>5} {'(point)':<11} {'loss':>5} {'rho':>5}  "
              f"{'one_se':>6} {'(point)':<11} {'loss':>5} {'rho':>5}  {'hindsight':>9} {'(point)':<11}")
    print(header)
    for r in rows:
        print(f"{r['run']:<32} {r['result']:<16} {r['best']:5.1f} {r['best_point']:<11} {r['best_loss']:5.1f} "
              f"{r['best_rho']:5.2f}  {r['one_se']:6.1f} {r['one_se_point']:<11} {r['one_se_loss']:5.1f} "
              f"{r['one_se_rho']:5.2f}  {r['hindsight']:9.1f} {r['hindsight_point']:<11}")
    losses = {rule: np.mean([r[f"{rule}_loss"] for r in rows]) for rule in rules}
    wins = sum(r["one_se_loss"] < r["best_loss"] for r in rows)
    ties = sum(r["one_se_loss"] == r["best_loss"] for r in rows)
    print(f"\nmean loss against hindsight over {len(rows)} run-protocol pairs: best (5-fold) "
          f"{losses['best']:.1f} points, one_se {losses['one_se']:.1f} points "
          f"(one_se loses less in {wins}, as much in {ties}, more in {len(rows) - wins - ties})")
    if args.ablations:
        print(f"\nAblations (target top-1, loss): repeated rounds + best mean; {args.folds} folds + one-SE rule")
        for r in rows:
            print(f"{r['run']:<32} {r['result']:<16} {r['repeated_best']:5.1f} {r['repeated_best_loss']:5.1f}  "
                  f"{r['folds_one_se']:5.1f} {r['folds_one_se_loss']:5.1f}")
        print(f"mean loss: repeated rounds + best mean {np.mean([r['repeated_best_loss'] for r in rows]):.1f} points, "
              f"{args.folds} folds + one-SE rule {np.mean([r['folds_one_se_loss'] for r in rows]):.1f} points")


if __name__ == "__main__":
    main()
