"""results/{run}/summary.csv (tabulate_run) and results/summary.csv (tabulate)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from zsar.io import atomic_output
from zsar.summary import papers_layout, summary_table

if snakemake.rule == "tabulate_run":
    table = summary_table(list(snakemake.input))
else:  # the summary runs side by side, laid out as the papers' tables
    table = papers_layout(pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True))
with atomic_output(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
