import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.semantics.atomic import read_atomic_actions
from zsar.semantics.text_encoder import cut_encoder, write_phrase_states

spec = snakemake.params.embedding
table = read_atomic_actions(snakemake.input[0])
try:
    cut = cut_encoder(table["phrase"].tolist(), spec, int(snakemake.wildcards.layers))
except ValueError as error:
    sys.exit(f"zsar: {error}")
write_phrase_states(snakemake.output[0], table, cut, snakemake.wildcards.embedding, spec)
print(f"{len(table)} phrases: hidden states {cut['states'].shape[1:]} entering the top {cut['config']['layers']} "
      f"layers", file=sys.stderr)
