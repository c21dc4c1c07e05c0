import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.semantics.bags import merge_matches

print(f"{merge_matches(snakemake.input, snakemake.output[0])} videos from {len(snakemake.input)} shards", file=sys.stderr)
