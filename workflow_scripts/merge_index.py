import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from zsar.index import count_report, listed_videos
from zsar.io import atomic_output, read_parquet
from zsar.manifest import load_manifest, workflow_manifests

manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir))
index = pd.concat([read_parquet(path) for path in snakemake.input.shards], ignore_index=True)
with atomic_output(snakemake.output[0]) as tmp:
    index.to_parquet(tmp, index=False)
_, unknown = listed_videos(manifest, Path(snakemake.params.root))
if len(unknown):
    # Kinetics-ZSAR reads Kinetics-600's annotations and keeps its own 220 classes; elsewhere an
    # unknown label means the annotations and the manifest's class list disagree.
    print(f"left out {int(unknown.sum())} videos of {len(unknown)} labels not in {manifest['_path']}: "
          + ", ".join(f"{label!r} ({n})" for label, n in unknown.head(10).items()), file=sys.stderr)
print(count_report(index, manifest.get("counts", {}).get("videos")), file=sys.stderr)
for row in index[index["problem"] != ""].itertuples():
    print(f"  {row.path}: {row.problem}", file=sys.stderr)
