import os
import sys

from zsar.io import read_parquet
from zsar.methods import method
from zsar.models.training import train
from zsar.pipeline.reuse import Kept
from zsar.semantics.embedding import kept_classes, read_class_embedding


def main():
    log = open(snakemake.log[0], "w", buffering=1)
    sys.stderr = log
    os.dup2(log.fileno(), 2)  # processes started for DistributedDataParallel log here too
    # The clip catalogue names the cache's shards; inputs.json stands for the frames it holds.
    last_good = Kept.of(snakemake, skip=("clips",))
    if last_good.restore():
        return
    videos = read_parquet(snakemake.input.clips)  # the clip catalogue: video_id, label, split, shard_path
    kept = kept_classes(snakemake.input.overlap)
    embedding = read_class_embedding(snakemake.input.vectors)
    row = {name: k for k, name in enumerate(embedding.names)}
    semantics = {"class_vectors": embedding.vectors_of(kept), "class_tokens": [embedding.tokens[row[c]] for c in kept],
                 **method(snakemake.params.method).read_class_side(
                     {name: snakemake.input[name] for name in snakemake.params.class_side})}
    train(snakemake.params.method, videos[videos["split"] == "train"], videos[videos["split"] == "val"], kept,
          semantics=semantics,
          model_cfg=snakemake.params.model, train_cfg=snakemake.params.train, sampling=snakemake.params.sampling,
          seed=snakemake.params.seed, threads=snakemake.threads, model_path=snakemake.output.model,
          history_path=snakemake.output.history, checkpoint_path=snakemake.params.checkpoint,
          video_files={name: snakemake.input[name] for name in snakemake.params.video_side})
    last_good.keep()


# Guarded: the processes DistributedDataParallel spawns import this file again.
if __name__ == "__main__":
    main()
