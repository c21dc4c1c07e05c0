import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import numpy as np
import torch

from zsar.data.cache import cached_videos
from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.io import file_sha256
from zsar.models.clip import VideoCLIP, load_clip
from zsar.models.extract import batch_within, embed_videos
from zsar.semantics.bags import write_matches
from zsar.semantics.embedding import normalise_name, read_class_embedding

p = snakemake.params
spec, frames, crop = p.embedding, 8, p.short_side  # MAXI's 8 frames spread over the video, the cache's centre square
torch.set_num_threads(snakemake.threads)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
clip = load_clip(spec["arch"], snakemake.input.checkpoint)
model = VideoCLIP(clip.visual, clip.text_projection.shape[1]).to(device)
prompts = read_class_embedding(snakemake.input.prompts)
manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir), snakemake.config["data_root"])
words = [" ".join(normalise_name(name, manifest.get("name_style", "plain"))) for name in prompts.names]
videos = cached_videos([snakemake.input.clips])
batch = batch_within(snakemake.resources.mem_mb, p.batch_size, n_clips=frames, frames=1, crop=crop, workers=p.workers,
                     cuda=device.type == "cuda")
print(f"matching {len(videos)} videos ({frames} frames of {crop}² each) to {len(prompts.names)} classes' "
      f"{len(prompts.tokens[0])}-prompt ensembles on {device}, batch {batch}", file=sys.stderr)
embedded = embed_videos(model, videos, length=1, stride=1, crop=crop, n_clips=frames, batch_size=batch,
                        workers=p.workers, log=lambda line: print(line, file=sys.stderr))
scores = embedded @ prompts.vectors.T
# The prompts file stands for the CLIP that made it (its checkpoint is an input of embed_clip_classes):
# hashing it, not the 600 MB checkpoint, in every shard's job (1,160 of them at Kinetics-700 size).
write_matches(snakemake.output[0], videos["video_id"], videos["label"], prompts.names, words, scores,
              file_sha256(snakemake.input.prompts))
column = {name: k for k, name in enumerate(prompts.names)}
own = np.array([column.get(label, -1) for label in videos["label"]])
right = float((scores.argmax(axis=1) == own).mean()) if len(videos) else 0.0
print(f"{len(videos)} videos matched; {right:.1%} to their own (unread) class among all {len(prompts.names)}",
      file=sys.stderr)
