import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.listing import take_listing, write_listing
from zsar.data.manifest import load_manifest, workflow_manifests

# The data root: where a classes_file lies (data_manifest/templates/custom.yaml).
manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir),
                         snakemake.config["data_root"])
try:
    listed, unknown = take_listing(manifest, Path(snakemake.params.root))
except ValueError as error:  # a malformed annotation file, a video listed twice: its file and line
    print(f"zsar: {error}", file=sys.stderr)
    sys.exit(1)
summary = write_listing(listed, snakemake.output.listed, snakemake.output.summary)
print(f"{summary['videos']} videos listed, {summary['present']} of them on disk", file=sys.stderr)
if len(unknown):
    # Kinetics-ZSAR reads Kinetics-600's annotations and keeps its own 220 classes; elsewhere an
    # unknown label means the annotations and the manifest's class list disagree.
    print(f"left out {int(unknown.sum())} videos of {len(unknown)} labels not in {manifest['_path']}: "
          + ", ".join(f"{label!r} ({n})" for label, n in unknown.head(10).items()), file=sys.stderr)
