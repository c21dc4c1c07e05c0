import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.semantics.objects import embed_objects, read_objects, write_video_objects

try:
    embedded, report = embed_objects(read_objects(snakemake.input.objects), snakemake.params.embedding,
                                     where=snakemake.input.objects)
except ValueError as error:
    sys.exit(f"zsar: {error}")
write_video_objects(snakemake.output[0], embedded, snakemake.wildcards.embedding, snakemake.params.embedding, report)
print(f"{report['videos']} videos with objects, {report['names']} distinct names", file=sys.stderr)
