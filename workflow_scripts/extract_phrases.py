import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from zsar.io import file_sha256
from zsar.models.extract import project_phrases
from zsar.semantics.embedding import read_phrase_embeddings, write_phrase_embeddings

phrases = read_phrase_embeddings(snakemake.input.phrases)
states = None
if "phrase_states" in snakemake.input.keys():  # the model trained its text encoder's last layers
    from zsar.semantics.text_encoder import read_phrase_states

    states = read_phrase_states(snakemake.input.phrase_states, phrases)
projected = project_phrases(snakemake.input.model, phrases["embeddings"], states)
table = pd.DataFrame({k: phrases[k] for k in ("class", "phrase", "atomic_id")})
write_phrase_embeddings(snakemake.output[0], table, projected, f"models/{snakemake.wildcards.run}",
                        {"model_sha256": file_sha256(snakemake.input.model)})
print(f"{len(table)} phrases of {table['class'].nunique()} classes projected to {projected.shape[1]} dimensions",
      file=sys.stderr)
