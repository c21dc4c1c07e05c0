import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.manifest import class_names, load_manifest, workflow_manifests
from zsar.semantics.embedding import (OutOfVocabularyError, class_words, embed_classes, lemma, load_word_vectors,
                                      write_class_embedding)

spec = snakemake.params.embedding
# The data root: where a classes_file lies (data_manifest/templates/custom.yaml).
manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir),
                         snakemake.config["data_root"])
try:
    embedding = embed_classes(manifest, spec)
except OutOfVocabularyError as error:
    # Name every word the vectors lack, not only the first (a class list of one's own may have several).
    vectors = load_word_vectors(spec["kind"], spec.get("path"))
    missing = {name: [w for w in class_words(name, manifest) if w not in vectors.key_to_index
                      and lemma(w) not in vectors.key_to_index] for name in class_names(manifest)}
    listed = "; ".join(f"'{name}': {', '.join(map(repr, words))}" for name, words in missing.items() if words)
    sys.exit(f"zsar: {error}\nEvery word the {spec['kind']} vectors lack: {listed}. Or embed the names with an "
             "embedding that takes any text: a run whose embedding is a sentence embedding (kind minilm) or a CLIP.")
write_class_embedding(snakemake.output[0], embedding, snakemake.wildcards.embedding, spec)
for name, tokens in zip(embedding.names, embedding.tokens):
    print(f"{name!r} -> {' | '.join(tokens)}", file=sys.stderr)
