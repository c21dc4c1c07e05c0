import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.cache import cached_videos
from zsar.io import file_sha256
from zsar.models.extract import embed_with
from zsar.pipeline.reuse import Kept
from zsar.zeroshot.features import write_features

last_good = Kept.of(snakemake)
if last_good.restore():
    sys.exit(0)
p = snakemake.params
videos = cached_videos([snakemake.input.clips])
embeddings, clips = embed_with(snakemake.input.model, videos, p.sampling, n_clips=p.sampling["test_clips"],
                               batch_size=p.batch_size, workers=p.workers, threads=snakemake.threads,
                               mem_mb=snakemake.resources.mem_mb, per_clip=p.per_clip,
                               video_files={name: snakemake.input[name] for name in p.video_side})
write_features(snakemake.output[0], videos["video_id"], videos["label"], embeddings, file_sha256(snakemake.input.model),
               clips)
last_good.keep()
