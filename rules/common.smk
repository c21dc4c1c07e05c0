# Helpers shared by the rules: manifests, shard counts, run settings and the data check.
import math
import os
import sys
from functools import cache

from snakemake.exceptions import WorkflowError

from zsar.manifest import load_manifest, missing_data_message
from zsar.sampling import PRESETS as SAMPLING_PRESETS, resolve_sampling
from zsar.training import resolve as resolve_method

DATA = config["data_root"]
MANIFESTS = os.path.join(workflow.basedir, "data_manifest")
RENDERED = sorted(config["synthetic"]["videos_per_class"])


wildcard_constraints:
    dataset=r"[a-z0-9]+",
    source=r"[a-z0-9]+",
    target=r"[a-z0-9]+",
    targets=r"[a-z0-9]+(_[a-z0-9]+)*",
    embedding=r"[a-z0-9]+",
    run=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    shard=r"\d+",
    seen=r"\d+",
    unseen=r"\d+",


@cache
def manifest(dataset):
    try:
        return load_manifest(dataset, MANIFESTS)
    except ValueError as error:
        stop(str(error))


def manifest_file(wildcards):
    return os.path.join(MANIFESTS, f"{wildcards.dataset}.yaml")


def decode_settings(dataset):
    settings = {k: v for k, v in config["decode"].items() if k != "overrides"}
    settings.update(config["decode"]["overrides"].get(dataset, {}))
    return settings


def n_videos(dataset):
    """Videos the dataset is expected to hold: rendered count, or the manifest's count."""
    if dataset in RENDERED:
        per_class = sum(config["synthetic"]["videos_per_class"][dataset].values())
        return per_class * len(manifest(dataset)["classes"])
    videos = manifest(dataset).get("counts", {}).get("videos")
    if videos is None:
        stop(f"{manifest(dataset)['_path']} gives no counts.videos, which sets how many shards "
             f"its videos are split into; add it.")
    return videos


def n_shards(dataset):
    return max(1, math.ceil(n_videos(dataset) / decode_settings(dataset)["videos_per_shard"]))


def shard_files(pattern, dataset, **fields):
    return expand(pattern, dataset=dataset, shard=range(n_shards(dataset)), **fields)


def embedding_spec(name):
    if name not in config["embeddings"]:
        raise WorkflowError(f"unknown embedding '{name}'; config.yaml's 'embeddings' defines: "
                            f"{', '.join(config['embeddings'])}")
    spec = dict(config["embeddings"][name])
    if "path" in spec:
        spec["path"] = os.path.expanduser(spec["path"])
    return spec


def run_settings(run):
    if run not in config["runs"]:
        raise WorkflowError(f"unknown run '{run}'; config.yaml defines: {', '.join(config['runs'])}")
    settings = dict(config["runs"][run])
    try:
        settings["model"], settings["train"] = resolve_method(settings["method"], settings["model"], settings["train"])
    except ValueError as error:
        stop(f"run '{run}' in config.yaml: {error}")
    # By default a run samples clips as its method's paper does.
    preset = settings["model"].get("preset") if settings["method"] == "rest" else "e2e"
    default = preset if preset in SAMPLING_PRESETS else "rest18"
    settings["sampling"] = resolve_sampling({"preset": default, **settings["sampling"]})
    for dataset in [settings["source"], *settings["targets"]]:
        short_side = decode_settings(dataset)["short_side"]
        if settings["sampling"]["crop"] > short_side:
            stop(f"run '{run}' crops {settings['sampling']['crop']} pixels but clips/{dataset} is cached at a "
                 f"short side of {short_side}: set decode.overrides.{dataset}.short_side in config.yaml to "
                 f"at least {settings['sampling']['crop']}.")
    if settings["embedding"] not in config["embeddings"]:
        raise WorkflowError(
            f"run '{run}' uses embedding '{settings['embedding']}', which config.yaml's "
            f"'embeddings' does not define ({', '.join(config['embeddings'])})"
        )
    return settings


def overlap_table(run):
    settings = run_settings(run)
    targets = "_".join(settings["targets"])
    return f"semantic/{settings['embedding']}/{settings['source']}_minus_{targets}.tsv"


def stop(message):
    """End the run before any job starts with a message for the user, not a traceback.

    Snakemake wraps any exception raised in an input function in its own traceback; a missing
    dataset is the user's to fix, not a bug, so print and exit instead.
    """
    print(f"\nzsar: {message}", file=sys.stderr)
    raise SystemExit(1)


def require_data(datasets):
    """Stop when a dataset the requested target needs is not on disk."""
    message = missing_data_message([manifest(d) for d in datasets], DATA)
    if message:
        stop(message)
