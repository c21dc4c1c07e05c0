import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import numpy as np

from zsar.io import read_json
from zsar.progress import Progress
from zsar.semantics.embedding import read_class_embedding
from zsar.zeroshot.prototypes import VARIANTS, compose, read_seen_prototypes, write_composition
from zsar.zeroshot.splits import SplitsError, read_splits

seen_classes, seen = read_seen_prototypes(snakemake.input.seen)
seen_vectors = read_class_embedding(snakemake.input.seen_vectors).vectors_of(seen_classes)
target = read_class_embedding(snakemake.input.target_vectors)
p = snakemake.params
# The cross-validated choice for this protocol (prototypes/{run}/composition_{target}_{seen}_{unseen}.json),
# or config's fixed values.
chosen = read_json(snakemake.input.selection)["chosen"] if "selection" in snakemake.input.keys() else p.fixed
K, epsilon, d = chosen["K"], chosen["epsilon"], chosen["d"]
print(f"K={K} epsilon={epsilon} d={d} capacity={p.capacity}", file=sys.stderr)
try:
    splits = read_splits(snakemake.input.splits, target.names)["splits"]
except SplitsError as error:
    sys.exit(f"zsar: {error}")
progress = Progress(len(splits) * len(VARIANTS), "integer programs", desc="compose")
composed = []
for k, unseen in enumerate(splits):
    S = target.vectors_of(unseen) @ seen_vectors.T
    variants = {}
    for variant in VARIANTS:
        prototypes, A, relaxed = compose(S.astype(np.float64), seen.astype(np.float64), K=K, d=d,
                                         epsilon=epsilon, variant=variant, capacity=p.capacity)
        variants[variant] = (prototypes, A, relaxed)
        print(f"split {k} {variant}: {int(A.sum())} seen prototypes used for {len(unseen)} unseen classes, "
              f"at most {int(A.sum(axis=0).max())} uses of one seen class, "
              f"{int(relaxed.sum())} rows relaxed to their nearest seen class", file=sys.stderr)
        progress.advance()
    composed.append({"unseen": unseen, "S": S, "variants": variants})
write_composition(snakemake.output[0], seen_classes, {"K": K, "d": d, "epsilon": epsilon, "capacity": p.capacity},
                  composed)
