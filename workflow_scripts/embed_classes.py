import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.semantics.embedding import embed_classes, write_class_embedding

spec = snakemake.params.embedding
# The data root: where a classes_file lies (data_manifest/templates/custom.yaml).
manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir),
                         snakemake.config["data_root"])
embedding = embed_classes(manifest, spec)
write_class_embedding(snakemake.output[0], embedding, snakemake.wildcards.embedding, spec)
for name, tokens in zip(embedding.names, embedding.tokens):
    print(f"{name!r} -> {' | '.join(tokens)}", file=sys.stderr)
