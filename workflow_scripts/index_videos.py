import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.index import count_report, index_videos
from zsar.io import atomic_output
from zsar.layouts import read_layout
from zsar.manifest import class_names, load_manifest

manifest = load_manifest(snakemake.wildcards.dataset, Path(snakemake.input.manifest).parent)
root = Path(snakemake.params.root)
listed = read_layout(manifest, root)
known = listed["label"].isin(class_names(manifest))
if not known.all():
    # Kinetics-ZSAR reads Kinetics-600's annotations and keeps its own 220 classes; elsewhere an
    # unknown label means the annotations and the manifest's class list disagree.
    unknown = listed.loc[~known, "label"].value_counts()
    print(f"left out {int((~known).sum())} videos of {len(unknown)} labels not in {manifest['_path']}: "
          + ", ".join(f"{label!r} ({n})" for label, n in unknown.head(10).items()), file=sys.stderr)
index = index_videos(listed[known], root, snakemake.params.n_shards,
                     min_frames=snakemake.params.min_frames, workers=snakemake.threads)
with atomic_output(snakemake.output[0]) as tmp:
    index.to_parquet(tmp, index=False)
print(count_report(index, manifest.get("counts", {}).get("videos")), file=sys.stderr)
for row in index[index["problem"] != ""].itertuples():
    print(f"  {row.path}: {row.problem}", file=sys.stderr)
