import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.index import index_videos
from zsar.io import atomic_output, read_parquet
from zsar.progress import Progress

progress = Progress(0, "videos", desc=f"probe {snakemake.wildcards.dataset} shard {snakemake.wildcards.shard}")


def probed(done, total):
    progress.total = total
    progress.update(done)


index = index_videos(read_parquet(snakemake.input.listed), Path(snakemake.params.root), snakemake.params.n_shards,
                     min_frames=snakemake.params.min_frames, backend=snakemake.params.backend,
                     workers=snakemake.threads,
                     shard=int(snakemake.wildcards.shard), progress=probed)
with atomic_output(snakemake.output[0]) as tmp:
    index.to_parquet(tmp, index=False)
print(f"shard {snakemake.wildcards.shard}: {len(index)} videos, {int(index['decodable'].sum())} decodable",
      file=sys.stderr)
