import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.decode import decode_shard
from zsar.io import read_json, read_parquet
from zsar.progress import Progress

shard = int(snakemake.wildcards.shard)
index = read_parquet(snakemake.input.index)
progress = Progress(int(index["decodable"].sum()), "videos", desc=f"decode {snakemake.wildcards.dataset} shard {shard}")
settings = read_json(snakemake.input.settings)  # clips/{dataset}.settings.json
codec = {key: settings[key] for key in ("codec", "quality", "compression") if key in settings}
counts = decode_shard(index, snakemake.params.root, shard, snakemake.output[0], settings["short_side"],
                      backend=settings["backend"], **codec, log=lambda message: print(message, file=sys.stderr),
                      progress=lambda done, total: progress.update(done))
print(counts, file=sys.stderr)
