import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.data.synthetic import render_dataset

dataset = snakemake.wildcards.dataset
manifest = load_manifest(dataset, workflow_manifests(snakemake.scriptdir))
root = Path(snakemake.output.annotations).parent
render_dataset(manifest, root, snakemake.params.videos_per_class, seed=snakemake.params.seed,
               frames=snakemake.params.frames, size=snakemake.params.size, fps=snakemake.params.fps)
print(f"rendered {dataset} into {root}", file=sys.stderr)
