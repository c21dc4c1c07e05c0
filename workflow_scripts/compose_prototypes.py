import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import h5py
import numpy as np

from zsar.features import STRING
from zsar.io import atomic_output, open_h5, read_json
from zsar.progress import Progress
from zsar.prototypes import VARIANTS, compose
from zsar.semantics import read_class_embedding

with open_h5(snakemake.input.seen) as f:
    seen_classes, seen = f["classes"].asstr()[:].tolist(), f["prototypes"][:]
seen_vectors = read_class_embedding(snakemake.input.seen_vectors)
seen_vectors = seen_vectors.vectors_of(seen_classes)
target = read_class_embedding(snakemake.input.target_vectors)
p = snakemake.params
# The cross-validated choice (prototypes/{run}/composition.json), or config's fixed values.
chosen = read_json(snakemake.input.selection)["chosen"] if "selection" in snakemake.input.keys() else p.fixed
K, epsilon, d = chosen["K"], chosen["epsilon"], chosen["d"]
print(f"K={K} epsilon={epsilon} d={d} capacity={p.capacity}", file=sys.stderr)
with atomic_output(snakemake.output[0]) as tmp, h5py.File(tmp, "w") as f:
    f.create_dataset("seen_classes", data=np.array(seen_classes, dtype=object), dtype=STRING)
    f.attrs.update(K=K, d=d, epsilon=epsilon, capacity=p.capacity)
    splits = read_json(snakemake.input.splits)["splits"]
    progress = Progress(len(splits) * len(VARIANTS), "integer programs", desc="compose")
    for k, unseen in enumerate(splits):
        S = target.vectors_of(unseen) @ seen_vectors.T
        group = f.create_group(f"split_{k}")
        group.create_dataset("unseen_classes", data=np.array(unseen, dtype=object), dtype=STRING)
        group.create_dataset("S", data=S)
        for variant in VARIANTS:
            prototypes, A, relaxed = compose(S.astype(np.float64), seen.astype(np.float64), K=K, d=d,
                                             epsilon=epsilon, variant=variant, capacity=p.capacity)
            out = group.create_group(variant)
            out.create_dataset("A", data=A)
            out.create_dataset("prototypes", data=prototypes)
            out.create_dataset("relaxed", data=relaxed)
            print(f"split {k} {variant}: {int(A.sum())} seen prototypes used for {len(unseen)} unseen classes, "
                  f"at most {int(A.sum(axis=0).max())} uses of one seen class, "
                  f"{int(relaxed.sum())} rows relaxed to their nearest seen class", file=sys.stderr)
            progress.advance()
