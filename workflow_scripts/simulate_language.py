import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.data.synthetic import OBJECTS
from zsar.io import atomic_output
from zsar.semantics.simulated_language import class_phrases, frame_captions

dataset = snakemake.wildcards.dataset
manifest = load_manifest(dataset, workflow_manifests(snakemake.scriptdir))
annotations = pd.read_csv(snakemake.input[0], dtype=str)
phrases = class_phrases(manifest["classes"])
captions = frame_captions(zip(annotations["video_id"], annotations["label"]), {c["name"]: c for c in manifest["classes"]},
                          list(OBJECTS), error_rate=snakemake.params.error_rate, seed=snakemake.params.seed)
for path, header, rows in ((snakemake.output.phrases, "class\tphrase", phrases),
                           (snakemake.output.captions, "video_id\tcaption", captions)):
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join([header, *(f"{key}\t{text}" for key, text in rows)]) + "\n")
print(f"{len(phrases)} phrases of {len(manifest['classes'])} classes, {len(captions)} captions of "
      f"{len(annotations)} videos", file=sys.stderr)
