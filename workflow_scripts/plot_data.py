import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.report.figures import draw_data

draw_data(snakemake.input.index, snakemake.input.gate, snakemake.wildcards.dataset, snakemake.output[0])
