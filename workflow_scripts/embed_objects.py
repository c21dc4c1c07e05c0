import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.io import read_parquet
from zsar.objects import embed_objects, read_objects, write_video_objects

try:
    objects = read_objects(snakemake.input.objects)
    index = read_parquet(snakemake.input.index, columns=["video_id"])
    embedded, report = embed_objects(objects, index["video_id"], snakemake.params.embedding,
                                     where=snakemake.input.objects)
except ValueError as error:
    sys.exit(f"zsar: {error}")
write_video_objects(snakemake.output[0], embedded, snakemake.wildcards.embedding, snakemake.params.embedding, report)
print(f"{report['videos_with_objects']} videos with objects ({report['names']} distinct names), "
      f"{report['videos_without']} without", file=sys.stderr)
if report["unknown_videos"]:
    print(f"{report['unknown_videos']} videos of {snakemake.input.objects} are not in index/"
          f"{snakemake.wildcards.dataset}.parquet and were left out (first: {', '.join(report['first_unknown'])})",
          file=sys.stderr)
