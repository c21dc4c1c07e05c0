import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import torch

from zsar.io import file_sha256
from zsar.models.extract import load_model
from zsar.semantics.embedding import ClassEmbedding, read_class_embedding, write_class_embedding

prompts = read_class_embedding(snakemake.input.prompts)
model = load_model(snakemake.input.model)
with torch.no_grad():
    vectors = model.encode_prompts(prompts.tokens).numpy()
write_class_embedding(snakemake.output[0], ClassEmbedding(prompts.names, prompts.tokens, vectors),
                      f"models/{snakemake.wildcards.run}", {"model_sha256": file_sha256(snakemake.input.model)})
print(f"{len(prompts.names)} classes' prompts through the trained text tower, {vectors.shape[1]} dimensions",
      file=sys.stderr)
