import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import numpy as np

from zsar.features import read_features
from zsar.io import read_parquet, write_json
from zsar.prototypes import cross_validate, read_seen_prototypes
from zsar.semantics import read_class_embedding

classes, prototypes = read_seen_prototypes(snakemake.input.seen)
videos, embeddings = read_features(snakemake.input.features)
split = videos.merge(read_parquet(snakemake.input.index)[["video_id", "split"]], on="video_id", how="left")["split"]
held_out = (split == "val").to_numpy() & videos["label"].isin(classes).to_numpy()
used = "held-out (val)"
if not held_out.any():  # the seen prototypes come from the training videos; prefer videos they did not see
    held_out = (split == "train").to_numpy() & videos["label"].isin(classes).to_numpy()
    used = "training (the source has no val videos)"
row = {c: k for k, c in enumerate(classes)}
labels = videos.loc[held_out, "label"].map(row).to_numpy()
vectors = read_class_embedding(snakemake.input.seen_vectors).vectors_of(classes)
p = snakemake.params
grid = {"epsilon": p.grid["epsilon"], "K": p.grid["K"], "d": p.grid["d"]}
rows, best = cross_validate(prototypes.astype(np.float64), vectors.astype(np.float64), embeddings[held_out],
                            labels, grid, folds=p.folds, seed=p.seed)
for r in rows:
    print(f"epsilon={r['epsilon']} K={r['K']} d={r['d']}: top-1 {r['top1']:.3f}", file=sys.stderr)
print(f"chosen: epsilon={best['epsilon']} K={best['K']} d={best['d']} (top-1 {best['top1']:.3f})", file=sys.stderr)
write_json(snakemake.output[0], {
    "chosen": {k: best[k] for k in ("epsilon", "K", "d")},
    "top1": best["top1"],
    "folds": p.folds, "seed": p.seed,
    "videos": f"{int(held_out.sum())} {used} videos of the {len(classes)} seen classes",
    "grid": rows,
})
