"""From embeddings to results: feature files, class splits, seen and composed prototypes, scoring
and its metrics."""
