import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.io import read_parquet
from zsar.pipeline.reuse import Kept
from zsar.semantics.embedding import kept_classes
from zsar.zeroshot.features import read_features
from zsar.zeroshot.prototypes import seen_prototypes, write_seen_prototypes

last_good = Kept.of(snakemake)
if last_good.restore():
    sys.exit(0)
videos, embeddings = read_features(snakemake.input.features)
split = videos.merge(read_parquet(snakemake.input.index)[["video_id", "split"]], on="video_id", how="left")["split"]
train = (split == "train").to_numpy()
classes = kept_classes(snakemake.input.overlap)
prototypes = seen_prototypes(videos.loc[train, "label"].tolist(), embeddings[train], classes)
counts = videos.loc[train, "label"].value_counts()
write_seen_prototypes(snakemake.output[0], classes, prototypes, [counts[c] for c in classes])
print(f"{len(classes)} seen prototypes from {int(train.sum())} training videos", file=sys.stderr)
last_good.keep()
