import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.index import listed_videos
from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.io import atomic_output

# The data root: where a classes_file lies (data_manifest/templates/custom.yaml).
manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir),
                         snakemake.config["data_root"])
listed, unknown = listed_videos(manifest, Path(snakemake.params.root))
with atomic_output(snakemake.output[0]) as tmp:
    listed[["video_id", "path", "label", "split"]].to_parquet(tmp, index=False)
print(f"{len(listed)} videos listed", file=sys.stderr)
if len(unknown):
    # Kinetics-ZSAR reads Kinetics-600's annotations and keeps its own 220 classes; elsewhere an
    # unknown label means the annotations and the manifest's class list disagree.
    print(f"left out {int(unknown.sum())} videos of {len(unknown)} labels not in {manifest['_path']}: "
          + ", ".join(f"{label!r} ({n})" for label, n in unknown.head(10).items()), file=sys.stderr)
