"""train_model's training from its files, on one node or on several.

`train_from_files` reads what the rule names (the clip catalogue, the kept classes, the class-name
vectors, the method's class and video sides) and trains. On one node it is all train_model runs; a
run with train.nodes > 1 trains in a SLURM job of that many nodes: train_model, on the first
node, writes the rule's files and settings to models/{run}/launch.json and starts
`python -m zsar.models.launch models/{run}/launch.json` once on every node (`srun_command`); each
of those reads the same files and starts its node's train.processes processes, which meet at the
first node (static ranks, so a rerun deals the same videos to the same ranks).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

from zsar.io import read_json, read_parquet, write_json
from zsar.methods import method
from zsar.models.training import Rendezvous, free_port, train
from zsar.semantics.embedding import kept_classes, read_class_embedding


def train_from_files(inputs: dict, params: dict, outputs: dict, threads: int, rendezvous: Rendezvous | None = None):
    """Train as train_model does: `inputs`, `params` and `outputs` are the rule's, by name."""
    videos = read_parquet(inputs["clips"])  # the clip catalogue: video_id, label, split, shard_path
    kept = kept_classes(inputs["overlap"])
    embedding = read_class_embedding(inputs["vectors"])
    row = {name: k for k, name in enumerate(embedding.names)}
    spec = method(params["method"])
    semantics = {"class_vectors": embedding.vectors_of(kept), "class_tokens": [embedding.tokens[row[c]] for c in kept],
                 **spec.read_class_side({name: inputs[name] for name in params["class_side"]})}
    train(params["method"], videos[videos["split"] == "train"], videos[videos["split"] == "val"], kept,
          semantics=semantics, model_cfg=params["model"], train_cfg=params["train"], sampling=params["sampling"],
          seed=params["seed"], threads=threads, model_path=outputs["model"], history_path=outputs["history"],
          checkpoint_path=params["checkpoint"], video_files={name: inputs[name] for name in params["video_side"]},
          rendezvous=rendezvous)


def launch_on_nodes(inputs: dict, params: dict, outputs: dict, threads: int, nodes: int, spec_path) -> None:
    """From the first node of a SLURM job of `nodes` nodes: one launcher on each node (srun)."""
    job = os.environ.get("SLURM_JOB_ID")
    if job is None:
        raise RuntimeError(
            f"train.nodes is {nodes}: a run on several nodes trains in a SLURM job of that many nodes, which "
            "train_model asks for through the cluster profiles (snakemake --profile profiles/slurm); this job "
            "runs outside SLURM. Run it through a profile, or set train.nodes: 1")
    host = socket.gethostname()
    write_json(spec_path, {"inputs": inputs, "params": params, "outputs": outputs, "threads": threads,
                           "address": host, "port": free_port(""), "run_id": f"zsar-{job}"})
    subprocess.run(srun_command(spec_path, nodes, sys.executable), check=True)


def srun_command(spec_path, nodes: int, python: str) -> list[str]:
    """One task on each node of the job, beside the step train_model runs in (--overlap), all
    ended when one fails."""
    return ["srun", "--overlap", f"--nodes={nodes}", f"--ntasks={nodes}", "--ntasks-per-node=1",
            "--kill-on-bad-exit=1", python, "-m", "zsar.models.launch", str(spec_path)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Train one node's share of a multi-node run (see the module's doc).")
    parser.add_argument("spec", type=Path, help="models/{run}/launch.json, written by train_model")
    parser.add_argument("--node-rank", type=int, default=None, help="this node's rank (default: SLURM_NODEID)")
    args = parser.parse_args(argv)
    spec = read_json(args.spec)
    node_rank = args.node_rank if args.node_rank is not None else int(os.environ.get("SLURM_NODEID", 0))
    print(f"node {node_rank} ({socket.gethostname()}) of {args.spec}", file=sys.stderr, flush=True)
    train_from_files(spec["inputs"], spec["params"], spec["outputs"], spec["threads"],
                     Rendezvous(spec["address"], spec["port"], node_rank, spec["run_id"]))


if __name__ == "__main__":
    main()
