import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.gate import check_data
from zsar.data.manifest import class_names, load_manifest, workflow_manifests
from zsar.io import read_parquet, write_json

p = snakemake.params
# The data root: where a classes_file lies (data_manifest/templates/custom.yaml).
manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir),
                         snakemake.config["data_root"])
index = read_parquet(snakemake.input.index)
splits = [None, "train"] if p.source else [None]
message = None
for split in splits:
    message = message or check_data(index, class_names(manifest), manifest=manifest, root=Path(p.root), split=split,
                                    min_decodable=p.min_decodable, min_videos_per_class=p.min_videos_per_class)
if message:
    sys.exit(f"zsar: {message}")
write_json(snakemake.output[0], {"listed": len(index), "decodable": int(index["decodable"].sum()),
                                 "min_decodable": p.min_decodable, "min_videos_per_class": p.min_videos_per_class})
print(f"{int(index['decodable'].sum())} of {len(index)} videos decodable: usable", file=sys.stderr)
