import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.data.synthetic import OBJECTS
from zsar.semantics.objects import simulate_detections, write_objects

dataset = snakemake.wildcards.dataset
manifest = load_manifest(dataset, workflow_manifests(snakemake.scriptdir))
annotations = pd.read_csv(snakemake.input[0], dtype=str)
object_of = {cls["name"]: cls["object"] for cls in manifest["classes"]}
rate = snakemake.params.error_rate
detections = simulate_detections(zip(annotations["video_id"], annotations["label"]), object_of, list(OBJECTS),
                                 error_rate=rate, seed=snakemake.params.seed)
write_objects(snakemake.output[0], detections,
              f"Simulated detections of {dataset} (zsar rule simulate_objects): the drawn object,\n"
              f"another of the world's objects in {rate:.0%} of the videos.")
wrong = sum(detections[v] != [object_of[label]] for v, label in zip(annotations["video_id"], annotations["label"]))
print(f"{len(detections)} videos, {wrong} given a wrong object", file=sys.stderr)
