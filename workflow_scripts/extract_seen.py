import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.io import file_sha256
from zsar.io import read_parquet
from zsar.models.extract import embed_with
from zsar.pipeline.reuse import Kept
from zsar.semantics.embedding import kept_classes
from zsar.zeroshot.features import write_features
from zsar.zeroshot.prototypes import select_seen_videos

last_good = Kept.of(snakemake)
if last_good.restore():
    sys.exit(0)
p = snakemake.params
selected = select_seen_videos(read_parquet(snakemake.input.catalogue), kept_classes(snakemake.input.overlap),
                              p.select["videos_per_class"], p.select["seed"])
videos = selected[selected["shard_path"] == snakemake.input.clips].reset_index(drop=True)
n_clips = p.select["clips_per_video"] or p.sampling["test_clips"]
print(f"{len(videos)} of the {len(selected)} selected source videos are in this shard; {n_clips} clips each",
      file=sys.stderr)
embeddings, _ = embed_with(snakemake.input.model, videos, p.sampling, n_clips=n_clips, batch_size=p.batch_size,
                           workers=p.workers, threads=snakemake.threads, mem_mb=snakemake.resources.mem_mb,
                           video_files={name: snakemake.input[name] for name in p.video_side})
write_features(snakemake.output[0], videos["video_id"], videos["label"], embeddings, file_sha256(snakemake.input.model))
last_good.keep()
