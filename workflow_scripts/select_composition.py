import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import numpy as np

from zsar.io import read_json, read_parquet, write_json
from zsar.semantics.embedding import read_class_embedding
from zsar.zeroshot.features import read_features
from zsar.zeroshot.prototypes import cv_videos, read_seen_prototypes, select_composition

classes, prototypes = read_seen_prototypes(snakemake.input.seen)
videos, embeddings = read_features(snakemake.input.features)
split = videos.merge(read_parquet(snakemake.input.index)[["video_id", "split"]], on="video_id", how="left")["split"]
held_out, used = cv_videos(videos, split, classes)
row = {c: k for k, c in enumerate(classes)}
labels = videos.loc[held_out, "label"].map(row).to_numpy()
vectors = read_class_embedding(snakemake.input.seen_vectors).vectors_of(classes)
# The protocol's unseen-class count: the split file's n_unseen only, never its classes.
n_unseen = int(read_json(snakemake.input.splits)["n_unseen"])
p = snakemake.params
grid = {"epsilon": p.grid["epsilon"], "K": p.grid["K"], "d": p.grid["d"]}
record = select_composition(prototypes.astype(np.float64), vectors.astype(np.float64), embeddings[held_out], labels,
                            grid, n_unseen=n_unseen, rule=p.rule, repeats=p.repeats, folds=p.folds, seed=p.seed)
rounds = f"{p.folds} folds" if p.rule == "best" else f"{p.repeats} rounds holding out {record['held_out']}"
print(f"rule {p.rule}: {rounds} of the {len(classes)} seen classes ({n_unseen} unseen in the protocol)",
      file=sys.stderr)
for r in record["grid"]:
    print(f"epsilon={r['epsilon']} K={r['K']} d={r['d']}: top-1 {r['top1']:.3f} +- {r['se']:.3f}", file=sys.stderr)
c = record["chosen"]
print(f"chosen: epsilon={c['epsilon']} K={c['K']} d={c['d']} (top-1 {record['top1']:.3f} +- {record['se']:.3f})",
      file=sys.stderr)
videos_used = f"{int(held_out.sum())} {used} videos of the {len(classes)} seen classes"
write_json(snakemake.output[0], {**{k: v for k, v in record.items() if k != "grid"}, "videos": videos_used,
                                 "grid": record["grid"]})
