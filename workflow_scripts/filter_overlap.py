import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.io import atomic_output
from zsar.semantics.embedding import check_enough_kept, filter_overlap, read_class_embedding

targets = {name: read_class_embedding(path) for name, path in zip(snakemake.params.targets, snakemake.input.targets)}
table = filter_overlap(read_class_embedding(snakemake.input.source), targets, snakemake.params.tau)
try:
    check_enough_kept(table, snakemake.params.tau, snakemake.wildcards.source, list(targets))
except ValueError as error:
    sys.exit(f"zsar: {error}")
with atomic_output(snakemake.output.table) as tmp:
    table.to_csv(tmp, sep="\t", index=False)
removed = table[~table["kept"]]
print(f"kept {int(table['kept'].sum())} of {len(table)} source classes (tau {snakemake.params.tau})", file=sys.stderr)
for row in removed.itertuples():
    print(f"  removed {row.source_class!r}: {row.distance:.4f} from {row.nearest_target_dataset} "
          f"{row.nearest_target_class!r}", file=sys.stderr)
