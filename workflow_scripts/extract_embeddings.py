import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import torch

from zsar.clips import shard_videos
from zsar.embed import embed_videos
from zsar.features import file_sha256, write_features
from zsar.training import load_model

torch.set_num_threads(snakemake.threads)
sampling = snakemake.params.sampling
videos = shard_videos([snakemake.input.clips])
out = embed_videos(load_model(snakemake.input.model), videos, length=sampling["frames"], stride=sampling["stride"],
                   crop=sampling["crop"], n_clips=sampling["test_clips"], per_clip=snakemake.params.per_clip)
embeddings, clips = out if snakemake.params.per_clip else (out, None)
write_features(snakemake.output[0], videos["video_id"], videos["label"], embeddings, file_sha256(snakemake.input.model),
               clips)
print(f"embedded {len(videos)} videos", file=sys.stderr)
