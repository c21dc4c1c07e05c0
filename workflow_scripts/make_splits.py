import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.io import write_json
from zsar.manifest import class_names, load_manifest
from zsar.prototypes import make_splits

target, seen, unseen = snakemake.wildcards.target, int(snakemake.wildcards.seen), int(snakemake.wildcards.unseen)
manifest = load_manifest(target, Path(snakemake.input.manifest).parent)
classes = class_names(manifest)
fixed = manifest.get("protocol_splits")  # a published protocol's own splits, e.g. Kinetics-ZSAR's
if fixed and (seen, unseen) == (len(fixed[0]["val"]), len(fixed[0]["test"])):
    splits, validation = [s["test"] for s in fixed], [s["val"] for s in fixed]
    extra = {"validation": validation, "source": f"data_manifest/{target}.yaml protocol_splits"}
else:
    if seen != 0 or unseen not in range(1, 101):
        also = (f", or {target}_{len(fixed[0]['val'])}_{len(fixed[0]['test'])} for its published splits "
                f"({len(fixed[0]['val'])} validation, {len(fixed[0]['test'])} test classes)") if fixed else ""
        sys.exit(f"splits/{target}_{seen}_{unseen}.json: only the 0/N protocols (0 seen target classes, "
                 f"N% of them unseen, 0 < N <= 100) are supported, e.g. {target}_0_50 or {target}_0_100{also}")
    splits = make_splits(classes, unseen_percent=unseen, count=snakemake.params.n_splits, seed=snakemake.params.seed)
    extra = {"seed": snakemake.params.seed}
write_json(snakemake.output[0], {"target": target, "protocol": f"{seen}/{unseen}", **extra,
                                  "n_classes": len(classes), "splits": splits})
print(f"{len(splits)} splits of {len(splits[0])} unseen classes out of {len(classes)}", file=sys.stderr)
