import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)


from zsar.clips import decode_shard
from zsar.io import read_parquet

counts = decode_shard(read_parquet(snakemake.input.index), snakemake.params.root, int(snakemake.wildcards.shard),
                      snakemake.output[0], snakemake.params.short_side,
                      log=lambda message: print(message, file=sys.stderr))
print(counts, file=sys.stderr)
