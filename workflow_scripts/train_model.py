import os
import sys
from pathlib import Path

from zsar.models.launch import launch_on_nodes, train_from_files
from zsar.pipeline.reuse import Kept


def main():
    log = open(snakemake.log[0], "w", buffering=1)
    sys.stderr = log
    os.dup2(log.fileno(), 2)  # the training processes (DistributedDataParallel) log here too
    # The clip catalogue names the cache's shards; inputs.json stands for the frames it holds.
    last_good = Kept.of(snakemake, skip=("clips",))
    if last_good.restore():
        return
    inputs = {name: str(path) for name, path in snakemake.input.items()}
    outputs = {name: str(path) for name, path in snakemake.output.items()}
    params = {name: snakemake.params[name] for name in
              ("method", "model", "train", "sampling", "seed", "class_side", "video_side", "checkpoint")}
    nodes = params["train"].get("nodes", 1)
    if nodes == 1:
        train_from_files(inputs, params, outputs, snakemake.threads)
    else:
        launch_on_nodes(inputs, params, outputs, snakemake.threads, nodes,
                        Path(snakemake.params.checkpoint).with_name("launch.json"))
    last_good.keep()


# Guarded: the processes DistributedDataParallel starts import this file again.
if __name__ == "__main__":
    main()
