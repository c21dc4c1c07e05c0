import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.io import write_json
from zsar.manifest import class_names, load_manifest
from zsar.prototypes import make_splits

target, seen, unseen = snakemake.wildcards.target, int(snakemake.wildcards.seen), int(snakemake.wildcards.unseen)
if seen != 0 or unseen not in range(1, 101):
    sys.exit(f"splits/{target}_{seen}_{unseen}.json: only the 0/N protocols (0 seen target classes, "
             f"N% of them unseen, 0 < N <= 100) are supported, e.g. {target}_0_50 or {target}_0_100")
classes = class_names(load_manifest(target, Path(snakemake.input.manifest).parent))
splits = make_splits(classes, unseen_percent=unseen, count=snakemake.params.n_splits, seed=snakemake.params.seed)
write_json(snakemake.output[0], {"target": target, "protocol": f"{seen}/{unseen}", "seed": snakemake.params.seed,
                                  "n_classes": len(classes), "splits": splits})
print(f"{len(splits)} splits of {len(splits[0])} unseen classes out of {len(classes)}", file=sys.stderr)
