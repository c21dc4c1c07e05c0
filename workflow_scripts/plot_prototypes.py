import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.report.figures import draw_prototypes

wc, i, out = snakemake.wildcards, snakemake.input, snakemake.output
draw_prototypes(i.result, i.confusion, i.features, i.prototypes, where=f"{wc.run} on {wc.target} {wc.seen}/{wc.unseen}",
                class_map=out.map, hubness=out.hubness, composition=out.composition)
