import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import h5py
import pandas as pd
import torch

from zsar.embed import read_features
from zsar.io import read_json, write_json
from zsar.provenance import code_version
from zsar.scoring import ProtocolError, check_unseen, score_split, summarise
from zsar.semantics import ClassEmbedding, read_class_embedding

target = snakemake.wildcards.target
vectors = read_class_embedding(snakemake.input.vectors)
model = torch.load(snakemake.input.model, map_location="cpu", weights_only=False, mmap=True)
trained, method = model["classes"], model.get("method", "e2e")
source = read_class_embedding(snakemake.input.source_vectors)
try:
    check_unseen(ClassEmbedding(trained, [[]] * len(trained), source.vectors_of(trained)), vectors,
                 snakemake.params.tau, target)
except ProtocolError as error:
    sys.exit(str(error))

videos, embeddings = read_features(snakemake.input.features)
index = pd.read_parquet(snakemake.input.index)
splits = read_json(snakemake.input.splits)
per_split = []
with h5py.File(snakemake.input.prototypes, "r") as f:
    for k, unseen in enumerate(splits["splits"]):
        group = f[f"split_{k}"]
        references = {"prototypes": group["prototypes"][:]}
        if method == "e2e":  # only E2E embeds videos in the class word-vector space
            references = {"e2e": vectors.vectors_of(unseen), **references}
        result = score_split(videos, embeddings, unseen, references)
        result["relaxed_prototypes"] = int(group["relaxed"][:].sum())
        per_split.append(result)
        print(f"split {k}: {result}", file=sys.stderr)

n_unseen = len(splits["splits"][0])
not_scored = index.loc[~index["video_id"].isin(videos["video_id"]), ["video_id", "path", "problem"]].fillna("")
# The index opened these but decoding failed; decode_clips' log has the reason.
not_scored.loc[not_scored["problem"] == "", "problem"] = f"not decoded: see logs/decode_clips/{snakemake.wildcards.target}/"
write_json(snakemake.output[0], {
    "target": target,
    "protocol": splits["protocol"],
    "run": snakemake.wildcards.run,
    "method": method,
    "n_splits": len(per_split),
    "unseen_classes_per_split": n_unseen,
    "chance_top1": 1.0 / n_unseen,
    "videos_scored": len(videos),
    "videos_not_scored": not_scored.to_dict(orient="records"),
    **summarise(per_split),
    "splits": per_split,
    "config": snakemake.params.config,
    "code_version": code_version(),
})
