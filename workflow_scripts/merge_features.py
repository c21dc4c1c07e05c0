import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.zeroshot.features import merge_features

print(f"{merge_features(snakemake.input, snakemake.output[0])} videos from {len(snakemake.input)} shards",
      file=sys.stderr)
