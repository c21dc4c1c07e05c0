# The rules' questions, asked of the DAG's plan (zsar/pipeline/plan.py): wildcard constraints, and input
# functions that pass wildcards on. Planning logic lives in the plan, where it is unit-tested.
import os
import sys

from zsar.pipeline.plan import CACHE_FORMAT_VERSION, Plan, PlanError, codec_settings

DATA = config["data_root"]
CACHE = r"[a-z0-9]+(@\d+)?"  # a clip cache: a dataset at its own short side, or {dataset}@{side} (rules/decode.smk)


wildcard_constraints:
    dataset=r"[a-z0-9]+",
    source=r"[a-z0-9]+",
    target=r"[a-z0-9]+",
    targets=r"[a-z0-9]+(_[a-z0-9]+)*",
    embedding=r"[a-z0-9]+",
    run=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    shard=r"\d+",
    seen=r"\d+",
    unseen=r"\d+|full",  # full: every class on the official test lists (UCF101, HMDB51)


def stop(message):
    """End the run before any job starts with a message for the user, not a traceback.

    Snakemake wraps any exception raised in an input function in its own traceback; a refused
    setting or a missing dataset is the user's to fix, not a bug, so print and exit instead.
    """
    print(f"\nzsar: {message}", file=sys.stderr)
    raise SystemExit(1)


class Stopping:
    """The plan's answers; a PlanError stops the run with its message."""

    def __init__(self, plan):
        self._plan = plan

    def __getattr__(self, name):
        answer = getattr(self._plan, name)
        if not callable(answer):
            return answer

        def asked(*args, **kwargs):
            try:
                return answer(*args, **kwargs)
            except PlanError as error:
                stop(str(error))

        return asked


# A listing is read once the list_videos checkpoint has made it (or found it up to date).
plan = Stopping(
    Plan(config, workflow.basedir, await_listing=lambda dataset: checkpoints.list_videos.get(dataset=dataset))
)
RENDERED = plan.rendered
plan.check_config_names()


def protocol(wc):
    return f"{wc.seen}_{wc.unseen}"


def manifest_digest(wc, field="dataset", descriptions=False):
    return plan.manifest_digest(getattr(wc, field), descriptions)


def train_inputs(wc):
    # ancient: a cache re-cut into other shards, or recompressed, retrains nothing; inputs.json
    # changes when a video or the frames do.
    inputs = plan.training_inputs(wc.run)
    return {**inputs, "clips": ancient(inputs["clips"])}


def score_inputs(wc):
    return plan.score_inputs(wc.run, wc.target, protocol(wc))


def extract_resources():
    r = config["extract"]["resources"]
    return {"gpu": lambda wc: plan.extract_gpus(wc.run), "mem_mb": r["mem_mb"], "runtime": r["runtime"]}


def run_setting(key):
    """An input function: the run's resolved settings[key]."""
    return lambda wc: plan.run(wc.run)[key]


def run_resource(key, default=None):
    return lambda wc: plan.train_resources(wc.run).get(key, default)


def track_code(rules):
    """Each scripted rule's code as parameters: its script and the zsar modules it runs, by digest
    (zsar/pipeline/codebase.py), and a run's method package where the script reaches one. A stage reruns when
    that code changed, and only then; profiles/default leaves out Snakemake's own trigger (the
    script's time)."""
    for scripted in rules:
        if scripted.script:
            script = os.path.join(scripted.basedir, scripted.script)
            scripted.set_params(**plan.code(script))
            if "run" in scripted.wildcard_names and plan.runs_method_code(script):
                scripted.set_params(code_method=lambda wc: plan.method_code(wc.run))
