import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import torch

from zsar.data.manifest import load_manifest, workflow_manifests
from zsar.io import atomic_output
from zsar.models.pretrain_clip import pretrain, pretraining_pairs

s = snakemake.params.settings
torch.set_num_threads(snakemake.threads)
excluded = set()
for dataset in s.get("exclude", []):  # no caption names a class of these (the targets)
    manifest = load_manifest(dataset, workflow_manifests(snakemake.scriptdir))
    excluded |= {(c["object"], m) for c in manifest["classes"] for m in ([c["motion"]] if "motion" in c else c["motions"])}
frames, captions = pretraining_pairs(s["images"], snakemake.params.size, s["seed"], excluded)
print(f"captions name no (object, motion) of {sorted(excluded)}", file=sys.stderr)
print(f"{len(captions)} rendered frames of {snakemake.params.size}² with captions, {len(set(captions))} distinct, "
      f"e.g. {captions[:3]}", file=sys.stderr)
state = pretrain(s["arch"], frames, captions, epochs=s["epochs"], batch_size=s["batch_size"], lr=s["lr"], seed=s["seed"],
                 log=lambda line: print(line, file=sys.stderr))
with atomic_output(snakemake.output[0]) as tmp:
    torch.save(state, tmp)
