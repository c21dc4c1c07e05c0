import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.report.figures import draw_training

draw_training(snakemake.input[0], snakemake.wildcards.run, snakemake.output[0])
