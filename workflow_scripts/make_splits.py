import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.zeroshot.splits import protocol_splits, write_splits

from zsar.zeroshot.splits import FULL

target, seen, unseen = snakemake.wildcards.target, int(snakemake.wildcards.seen), snakemake.wildcards.unseen
unseen = unseen if unseen == FULL else int(unseen)
# The DAG allows only configured protocols (rules/common.smk check_protocol).
# The data root: where a classes_file lies (data_manifest/templates/custom.yaml).
manifest = load_manifest(target, workflow_manifests(snakemake.scriptdir),
                         snakemake.config["data_root"])
splits = protocol_splits(target, manifest, seen, unseen,
                         count=snakemake.params.n_splits, seed=snakemake.params.seed, root=snakemake.params.root)
write_splits(snakemake.output[0], splits)
print(f"{len(splits['splits'])} splits of {splits['n_unseen']} unseen classes out of {splits['n_classes']}"
      + (f", on {', '.join(str(len(v)) for v in splits['videos'])} test videos" if "videos" in splits else ""),
      file=sys.stderr)
