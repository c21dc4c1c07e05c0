import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from zsar.data.index import count_report
from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.io import atomic_output, read_parquet

manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir))
index = pd.concat([read_parquet(path) for path in snakemake.input.shards], ignore_index=True)
with atomic_output(snakemake.output[0]) as tmp:
    index.to_parquet(tmp, index=False)
print(count_report(index, manifest.get("counts", {}).get("videos")), file=sys.stderr)
for row in index[index["problem"] != ""].itertuples():
    print(f"  {row.path}: {row.problem}", file=sys.stderr)
