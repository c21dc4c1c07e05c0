"""The networks: shared video backbones, the training loop every method uses, and the extraction of
per-video embeddings. Each method's own model is in zsar/methods/<name>/."""
