import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.cache import cached_videos, failed_videos
from zsar.io import atomic_output, read_parquet

index = read_parquet(snakemake.input.index)
catalogue = cached_videos(snakemake.input.shards).merge(index[["video_id", "split"]], on="video_id", how="left")
with atomic_output(snakemake.output[0]) as tmp:
    catalogue.to_parquet(tmp, index=False)
failed = [(path, *entry) for path in snakemake.input.shards for entry in failed_videos(path)]
print(f"{len(catalogue)} videos cached in {len(snakemake.input.shards)} shards, {len(failed)} failed to decode",
      file=sys.stderr)
for path, video_id, reason in failed:
    print(f"  {video_id} ({path}): {reason}", file=sys.stderr)
