import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import h5py
import numpy as np

from zsar.features import read_features
from zsar.features import STRING
from zsar.io import atomic_output, open_h5, read_json, read_parquet, write_json
from zsar.prototypes import VARIANTS
from zsar.provenance import code_version
from zsar.scoring import PATHS, ProtocolError, check_unseen, score_split, summarise
from zsar.semantics import ClassEmbedding, read_class_embedding

target = snakemake.wildcards.target
vectors = read_class_embedding(snakemake.input.vectors)
model = read_json(snakemake.input.model)  # models/{run}/model.json: the weights are not needed here
trained, method = model["classes"], model["method"]
source = read_class_embedding(snakemake.input.source_vectors)
try:
    check_unseen(ClassEmbedding(trained, [[]] * len(trained), source.vectors_of(trained)), vectors,
                 snakemake.params.tau, target)
except ProtocolError as error:
    sys.exit(str(error))

videos, embeddings = read_features(snakemake.input.features)
index = read_parquet(snakemake.input.index)
splits = read_json(snakemake.input.splits)
with open_h5(snakemake.input.seen) as f:
    seen_classes, seen_prototypes = f["classes"].asstr()[:].tolist(), f["prototypes"][:]
per_split, confusions = [], {}
with open_h5(snakemake.input.prototypes) as f:
    composition = {k: f.attrs[k].item() for k in ("K", "epsilon", "d", "capacity")}
    for k, unseen in enumerate(splits["splits"]):
        group = f[f"split_{k}"]
        references = {variant: group[variant]["prototypes"][:] for variant in VARIANTS}
        if method == "e2e":  # only E2E embeds videos in the class word-vector space
            references = {"e2e": vectors.vectors_of(unseen), **references}
        reverse = {"seen_prototypes": seen_prototypes, "seen_vectors": source.vectors_of(seen_classes),
                   "unseen_vectors": vectors.vectors_of(unseen), "K": int(f.attrs["K"])}
        result = score_split(videos, embeddings, unseen, references, reverse)
        for path in PATHS:
            if path in result:
                confusions[f"split_{k}/{path}"] = result[path].pop("confusion")
        result["relaxed_prototypes"] = {v: int(group[v]["relaxed"][:].sum()) for v in VARIANTS}
        per_split.append(result)
        print(f"split {k} top-1: " + ", ".join(f"{path} {result[path]['top1']:.3f}" for path in PATHS if path in result),
              file=sys.stderr)

with atomic_output(snakemake.output.confusion) as tmp, h5py.File(tmp, "w") as f:
    f.attrs["rows"], f.attrs["columns"] = "true class", "predicted class"
    for k, unseen in enumerate(splits["splits"]):
        f.create_dataset(f"split_{k}/classes", data=np.array(unseen, dtype=object), dtype=STRING)
    for name, matrix in confusions.items():
        f.create_dataset(name, data=matrix)

n_unseen = len(splits["splits"][0])
not_scored = index.loc[~index["video_id"].isin(videos["video_id"]), ["video_id", "path", "problem"]].fillna("")
# The index opened these but decoding failed; decode_clips' log has the reason.
not_scored.loc[not_scored["problem"] == "", "problem"] = f"not decoded: see logs/decode_clips/{snakemake.wildcards.target}/"
write_json(snakemake.output.json, {
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
    "composition": composition,  # the (epsilon, K, d) used: cross-validated on seen classes, or fixed
    "splits": per_split,
    "config": snakemake.params.config,
    "code_version": code_version(),
})
