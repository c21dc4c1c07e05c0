import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.report.figures import draw_overlap

wc, out = snakemake.wildcards, snakemake.output
draw_overlap(snakemake.input.table, snakemake.input.source, dict(zip(snakemake.params.targets, snakemake.input.targets)),
             source_name=wc.source, embedding=wc.embedding, tau=snakemake.params.tau, distances=out.distances,
             class_map=out.map)
