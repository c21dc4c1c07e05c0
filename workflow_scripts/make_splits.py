import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.io import write_json
from zsar.manifest import class_names, load_manifest, workflow_manifests
from zsar.prototypes import make_splits

target, seen, unseen = snakemake.wildcards.target, int(snakemake.wildcards.seen), int(snakemake.wildcards.unseen)
manifest = load_manifest(target, workflow_manifests(snakemake.scriptdir))
classes = class_names(manifest)
fixed = manifest.get("protocol_splits")  # a published protocol's own splits, e.g. Kinetics-ZSAR's
if fixed and (seen, unseen) == (len(fixed[0]["val"]), len(fixed[0]["test"])):
    splits, validation = [s["test"] for s in fixed], [s["val"] for s in fixed]
    extra = {"validation": validation, "source": f"data_manifest/{target}.yaml protocol_splits"}
else:
    # The DAG allows only configured protocols (rules/common.smk check_protocol).
    splits = make_splits(classes, unseen_percent=unseen, count=snakemake.params.n_splits, seed=snakemake.params.seed)
    extra = {"seed": snakemake.params.seed}
write_json(snakemake.output[0], {"target": target, "protocol": f"{seen}/{unseen}", **extra,
                                  "n_classes": len(classes), "n_unseen": len(splits[0]), "splits": splits})
print(f"{len(splits)} splits of {len(splits[0])} unseen classes out of {len(classes)}", file=sys.stderr)
