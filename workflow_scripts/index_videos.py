import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.index import index_videos, read_annotations_csv
from zsar.io import atomic_output

root = Path(snakemake.params.root)
index = index_videos(read_annotations_csv(root), root, snakemake.params.n_shards)
with atomic_output(snakemake.output[0]) as tmp:
    index.to_parquet(tmp, index=False)
bad = index[~index["decodable"]]
print(f"indexed {len(index)} videos, {len(bad)} not decodable", file=sys.stderr)
for row in bad.itertuples():
    print(f"  {row.path}: {row.problem}", file=sys.stderr)
