import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from zsar.clips import shard_videos
from zsar.semantics import kept_classes, read_class_embedding
from zsar.training import train_e2e

index = pd.read_parquet(snakemake.input.index)
videos = shard_videos(snakemake.input.clips).merge(index[["video_id", "split"]], on="video_id")
kept = kept_classes(snakemake.input.overlap)
vectors = read_class_embedding(snakemake.input.vectors)
class_vectors = vectors.vectors_of(kept)
train_e2e(videos[videos["split"] == "train"], videos[videos["split"] == "val"], kept, class_vectors,
          model_cfg=snakemake.params.model, train_cfg=snakemake.params.train, clip_cfg=snakemake.params.sampling,
          seed=snakemake.params.seed, threads=snakemake.threads, model_path=snakemake.output.model,
          history_path=snakemake.output.history, checkpoint_path=snakemake.params.checkpoint,
          log=lambda message: print(message, file=sys.stderr))
