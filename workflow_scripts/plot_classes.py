import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.report.figures import draw_classes

wc, i, out = snakemake.wildcards, snakemake.input, snakemake.output
draw_classes(i.result, i.confusion, i.overlap, i.source_vectors, i.target_vectors,
             where=f"{wc.run} on {wc.target} {wc.seen}/{wc.unseen}", per_class=out.per_class,
             confusion_figure=out.confusion, distance=out.distance)
