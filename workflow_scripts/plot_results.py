import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.report.figures import draw_results

out = snakemake.output
draw_results(snakemake.input.results, snakemake.input.summary, figure=out.figure, table=out.table,
             summary_page=out.summary)
