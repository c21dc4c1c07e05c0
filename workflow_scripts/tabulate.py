"""results/summary.csv (tabulate): the summary runs side by side, laid out as the papers' tables."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.report.summary import write_papers_table

write_papers_table(list(snakemake.input), snakemake.output[0])
