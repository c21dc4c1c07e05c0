import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.semantics.atomic import atomic_actions, descriptions_of, load_parser, read_corrections, write_atomic_actions

dataset = snakemake.wildcards.dataset
# The data root: where a classes_file lies (data_manifest/templates/custom.yaml).
manifest = load_manifest(dataset, workflow_manifests(snakemake.scriptdir),
                         snakemake.config["data_root"])
inputs = snakemake.input
try:
    corrections = read_corrections(inputs.corrections) if "corrections" in inputs.keys() else {}
    descriptions = descriptions_of(manifest, inputs.descriptions if "descriptions" in inputs.keys() else None,
                                   corrected=corrections)
    table = atomic_actions(descriptions, load_parser(snakemake.params.parser), corrections)
except ValueError as error:
    sys.exit(f"zsar: {dataset}: {error}\n(config.yaml: descriptions.files.{dataset} names a descriptions file, "
             f"descriptions.corrections.{dataset} a corrections file)")
write_atomic_actions(table, snakemake.output[0])
for name, group in table.groupby("class", sort=False):
    print(f"{name!r} -> {' | '.join(group['phrase'])}", file=sys.stderr)
print(f"{len(table)} atomic actions ({table['phrase'].nunique()} distinct) of {table['class'].nunique()} classes",
      file=sys.stderr)
