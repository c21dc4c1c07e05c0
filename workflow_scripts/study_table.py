"""results/studies/{study}.csv and .md (study_table): see zsar/report/studies.py."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.io import atomic_output
from zsar.report.studies import StudyError, load_results, markdown, row_runs, study_table

study = snakemake.params.study
paths = {(run, target): f"results/{run}/{target}.json"
         for row in study["rows"] for run in row_runs(row) for target in study["targets"]}
models = {run: f"models/{run}/model.json" for row in study["rows"] for run in row_runs(row)}
compositions = {(run, target): f"prototypes/{run}/composition_{target}.json" for run, target in paths}
try:
    table = study_table(study, load_results(paths), load_results(models),
                        load_results(compositions) if snakemake.params.composed else None)
except StudyError as error:
    print(f"zsar: {error}", file=sys.__stderr__)  # on the console as well as in the log
    sys.exit(f"zsar: {error}")
with atomic_output(snakemake.output.csv) as tmp:
    table.to_csv(tmp, index=False)
with atomic_output(snakemake.output.md) as tmp:
    tmp.write_text(markdown(study, table))
print(table.to_string(), file=sys.stderr)
