import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.models.clip import embed_class_prompts
from zsar.semantics.embedding import write_class_embedding

spec = snakemake.params.embedding
manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir),
                         snakemake.config["data_root"])
embedding = embed_class_prompts(manifest, spec)
write_class_embedding(snakemake.output[0], embedding, snakemake.wildcards.embedding, spec)
for name, prompts in zip(embedding.names, embedding.tokens):
    print(f"{name!r} -> {' | '.join(prompts)}", file=sys.stderr)
