import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.manifest import class_names, load_manifest
from zsar.semantics import embed_class_names, load_word_vectors, write_class_embedding

spec = snakemake.params.embedding
manifest = load_manifest(snakemake.wildcards.dataset, Path(snakemake.input.manifest).parent)
vectors = load_word_vectors(spec["kind"], spec.get("path"))
embedding = embed_class_names(class_names(manifest), vectors, manifest_path=manifest["_path"],
                              replacements=manifest.get("replacements"))
write_class_embedding(snakemake.output[0], embedding, snakemake.wildcards.embedding)
for name, tokens in zip(embedding.names, embedding.tokens):
    print(f"{name!r} -> {' '.join(tokens)}", file=sys.stderr)
