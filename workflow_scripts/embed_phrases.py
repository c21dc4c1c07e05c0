import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.semantics.atomic import read_atomic_actions
from zsar.semantics.embedding import embed_phrases, write_phrase_embeddings

spec = snakemake.params.embedding
table = read_atomic_actions(snakemake.input[0])
embeddings = embed_phrases(table["phrase"].tolist(), spec)
write_phrase_embeddings(snakemake.output[0], table, embeddings, snakemake.wildcards.embedding, spec)
print(f"{len(table)} phrases ({table['phrase'].nunique()} distinct) of {table['class'].nunique()} classes",
      file=sys.stderr)
