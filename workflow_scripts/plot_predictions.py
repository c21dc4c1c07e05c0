import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.report.predictions_page import write_page

shown = write_page(snakemake.input.predictions, snakemake.input.record, list(snakemake.input.clips),
                   snakemake.output[0], max_videos=snakemake.params.videos)
print(f"{shown} videos on the page", file=sys.stderr)
