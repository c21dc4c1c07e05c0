"""results/{run}/summary.csv (tabulate_run): every target, protocol and path of a run."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.report.summary import write_run_table

write_run_table(list(snakemake.input), snakemake.output[0])
