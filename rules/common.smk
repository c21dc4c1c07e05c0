# Helpers shared by the rules: manifests, shard counts, run settings, config and target checks.
import difflib
import hashlib
import json
import math
import os
import sys
from functools import cache

from zsar.cache import FORMAT_VERSION as CACHE_FORMAT_VERSION, codec_settings
from zsar.manifest import load_manifest, missing_data_message
from zsar.sampling import resolve_sampling
from zsar.methods import method as method_spec, resolve as resolve_method
from zsar.semantics import SENTENCE_KINDS

DATA = config["data_root"]
MANIFESTS = os.path.join(workflow.basedir, "data_manifest")
DATASETS = sorted(name[: -len(".yaml")] for name in os.listdir(MANIFESTS) if name.endswith(".yaml"))
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
        return load_manifest(dataset, MANIFESTS, DATA)  # DATA: where a classes_file lies
    except ValueError as error:
        stop(str(error))


@cache
def _manifest_digests(dataset):
    """(without, with) the class descriptions: digests of a manifest's content, comments left out."""
    content = {k: v for k, v in manifest(dataset).items() if not k.startswith("_")}
    classes = [
        {k: v for k, v in c.items() if k != "description"} if isinstance(c, dict) else c
        for c in content.get("classes", [])
    ]
    return tuple(
        hashlib.sha256(json.dumps(c, sort_keys=True, default=str).encode()).hexdigest()[:16]
        for c in ({**content, "classes": classes}, content)
    )


def manifest_digest(wildcards, field="dataset", descriptions=False):
    """A stage's `manifest` parameter: the digest of its dataset's manifest.

    A parameter, not an input file: a changed manifest reruns the stage, while the path, which
    changes when the workflow or the results move, plays no part (scripts find the manifests
    beside themselves, zsar.manifest.workflow_manifests). Class descriptions count only for the
    stage that reads them (`descriptions`): editing one reparses atomic actions and retrains the
    runs that read them, nothing else.
    """
    return _manifest_digests(getattr(wildcards, field))[1 if descriptions else 0]


def decode_settings(dataset):
    settings = {k: v for k, v in config["decode"].items() if k != "overrides"}
    settings.update(config["decode"]["overrides"].get(dataset, {}))
    return settings


@cache
def listing(dataset):
    """A downloaded dataset's listed videos with each file's (size, time) on disk, read at DAG time.

    One stat per video: Kinetics-700's 580k take seconds (benchmarks/dag_scale.py). `present`
    says whether the file is there.
    """
    from zsar.index import file_stamp, listed_videos

    require_data([dataset])
    root = f"{DATA}/{dataset}"
    try:
        listed, _ = listed_videos(manifest(dataset), root)
    except ValueError as error:  # a malformed annotation file, a video listed twice
        stop(str(error))
    prefix = os.path.join(root, "")
    stamps = [file_stamp(prefix + rel) for rel in listed["path"]]
    return listed.assign(stamp=[str(stamp) for stamp in stamps], present=[stamp is not None for stamp in stamps])


def n_videos(dataset):
    """Videos of the dataset to cut into shards: the rendered count, or those on disk."""
    if dataset in RENDERED:
        per_class = sum(config["synthetic"]["videos_per_class"][dataset].values())
        return per_class * len(manifest(dataset)["classes"])
    return int(listing(dataset)["present"].sum())


def n_shards(dataset):
    """Shards follow the videos on disk: a partial copy gets fewer, fuller shards."""
    return max(1, math.ceil(n_videos(dataset) / decode_settings(dataset)["videos_per_shard"]))


def shard_files(pattern, dataset, **fields):
    return expand(pattern, dataset=dataset, shard=range(n_shards(dataset)), **fields)


@cache
def video_stamps(dataset):
    """Per shard, a digest of its videos' paths, labels, splits, sizes and times."""
    from zsar.index import assign_shards, shard_stamps

    return shard_stamps(assign_shards(listing(dataset), n_shards(dataset)))


def shard_stamp(wildcards):
    """The `videos` parameter of an index shard: what its videos on disk are, by size and time.

    Rendered datasets have none: they are the pipeline's own output, which render_synthetic tracks.
    """
    if wildcards.dataset in RENDERED:
        return None
    return video_stamps(wildcards.dataset).get(int(wildcards.shard), "no videos")


def table_digest(table, columns):
    """A digest of a table's rows, by the given columns, in the table's order."""
    lines = table[columns[0]].str.cat([table[c] for c in columns[1:]], sep="\t")
    return hashlib.blake2b("\n".join(lines).encode(), digest_size=16).hexdigest()


@cache
def frames_identity(dataset):
    """What a model trained on `dataset` saw, whatever the cache's cut into shards or its compression.

    The training stage's rerun trigger (its clip input is `ancient`): the listed videos with their
    sizes and times (or the rendering settings), the class list, the short side and whether frames
    are raw or JPEG of some quality. Changing videos_per_shard or the raw compression re-cuts the
    cache but retrains nothing; a changed, added or removed video retrains.
    """
    from types import SimpleNamespace

    from zsar.cache import frames_identity as stored_frames

    settings = decode_settings(dataset)
    parts = {
        "manifest": manifest_digest(SimpleNamespace(dataset=dataset)),
        "short_side": settings["short_side"],
        "frames": stored_frames(settings),
    }
    if dataset in RENDERED:
        parts["videos"] = {key: config["synthetic"][key] for key in ("seed", "frames", "size", "fps")}
        parts["videos"]["per_class"] = config["synthetic"]["videos_per_class"][dataset]
    else:
        table = listing(dataset).sort_values("video_id")
        parts["videos"] = table_digest(table, ["video_id", "path", "label", "split", "stamp"])
    return hashlib.blake2b(json.dumps(parts, sort_keys=True).encode(), digest_size=16).hexdigest()


def embedding_spec(name):
    if name not in config["embeddings"]:
        stop(
            f"unknown embedding '{name}'{did_you_mean(name, config['embeddings'])}; config.yaml's "
            f"'embeddings' defines: {', '.join(config['embeddings'])}"
        )
    spec = dict(config["embeddings"][name])
    if "path" in spec:
        spec["path"] = os.path.expanduser(spec["path"])
    return spec


def run_settings(run):
    if run not in config["runs"]:
        stop(f"there is no run '{run}'{did_you_mean(run, config['runs'])}.\n{valid_targets()}")
    settings = dict(config["runs"][run])
    try:
        settings["model"], settings["train"] = resolve_method(settings["method"], settings["model"], settings["train"])
    except ValueError as error:
        stop(f"run '{run}' in config.yaml: {error}")
    # By default a run samples clips as its method's paper does.
    default = method_spec(settings["method"]).sampling_preset(settings["model"])
    try:
        settings["sampling"] = resolve_sampling(settings["sampling"], default)
    except ValueError as error:
        stop(f"run '{run}' in config.yaml: {error}")
    for dataset in [settings["source"], *settings["targets"]]:
        short_side = decode_settings(dataset)["short_side"]
        if settings["sampling"]["crop"] > short_side:
            stop(
                f"run '{run}' crops {settings['sampling']['crop']} pixels but clips/{dataset} is cached at a "
                f"short side of {short_side}: set decode.overrides.{dataset}.short_side in config.yaml to "
                f"at least {settings['sampling']['crop']}."
            )
    if settings["embedding"] not in config["embeddings"]:
        stop(
            f"run '{run}' uses embedding '{settings['embedding']}', which config.yaml's 'embeddings' "
            f"does not define ({', '.join(config['embeddings'])})"
        )
    if "class_phrases" in method_spec(settings["method"]).needs:
        encoder = settings["model"]["text_encoder"]
        sentence = [
            name
            for name, spec in config["embeddings"].items()
            if spec["kind"] in SENTENCE_KINDS and spec.get("augment", "none") == "none"
        ]
        if encoder not in sentence:
            stop(
                f"run '{run}': model.text_encoder '{encoder}' must name a sentence embedding without augment of config.yaml's "
                f"'embeddings' ({', '.join(sentence) or 'none defined: add one of kind minilm'})"
            )
    return settings


def class_side(run, dataset):
    """The semantic files of `dataset`'s classes that run's method reads: the class-name embedding,
    and the embedded atomic actions of its descriptions when the method needs them."""
    settings = run_settings(run)
    files = {"vectors": f"semantic/{settings['embedding']}/{dataset}.h5"}
    if "class_phrases" in method_spec(settings["method"]).needs:
        encoder = settings["model"]["text_encoder"]
        files["phrases"] = f"semantic/{encoder}/{dataset}_phrases.h5"
        if settings["model"].get("text_layers"):  # the phrases' hidden states below the layers it trains
            files["phrase_states"] = f"semantic/{encoder}/{dataset}_phrases_top{settings['model']['text_layers']}.h5"
    return files


def video_objects(run, dataset):
    """{"objects": the embedded object names of dataset's videos} when the run's model takes objects."""
    settings = run_settings(run)
    if not settings["model"].get("objects"):
        return {}
    return {"objects": f"semantic/{settings['model']['text_encoder']}/{dataset}_objects.h5"}


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


def did_you_mean(name, known):
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_config_names():
    """Stop when a config key or value names a dataset or run that does not exist.

    JSON schema checks the shape of the config; these names it cannot know, and a misspelt one
    would otherwise be silently ignored (an override that never applies).
    """

    def known(where, names, choices, what):
        for name in names:
            if name not in choices:
                stop(
                    f"config: {where} names '{name}', which is not {what}{did_you_mean(name, choices)}. "
                    f"Known: {', '.join(choices)}."
                )

    known("decode.overrides", config["decode"]["overrides"], DATASETS, "a dataset (data_manifest/)")
    for key in ("files", "corrections"):
        known(f"descriptions.{key}", config["descriptions"][key], DATASETS, "a dataset (data_manifest/)")
    known("objects.files", config["objects"]["files"], DATASETS, "a dataset (data_manifest/)")
    known("synthetic.videos_per_class", RENDERED, DATASETS, "a dataset (data_manifest/)")
    for name in RENDERED:
        if manifest(name)["kind"] != "rendered":
            stop(
                f"config: synthetic.videos_per_class names '{name}', which the pipeline does not render "
                f"({manifest(name)['_path']} says kind: {manifest(name)['kind']}); list rendered datasets only."
            )
    known("default_run", config["default_run"], DATASETS, "a dataset (data_manifest/)")
    known("default_run values", config["default_run"].values(), list(config["runs"]), "a run in 'runs'")
    known("summary_runs", config["summary_runs"], list(config["runs"]), "a run in 'runs'")
    for run, settings in config["runs"].items():
        known(
            f"runs.{run}.source/targets",
            [settings["source"], *settings["targets"]],
            DATASETS,
            "a dataset (data_manifest/)",
        )


def protocols_of(target):
    """The protocols a target may be asked for: config's 0/N, and its published splits if any."""
    fixed = manifest(target).get("protocol_splits")
    published = [f"{len(fixed[0]['val'])}_{len(fixed[0]['test'])}"] if fixed else []
    return [f"0_{n}" for n in config["splits"]["unseen_percent"]] + published


def valid_targets():
    runs = "; ".join(f"{run} ({', '.join(s['targets'])})" for run, s in config["runs"].items())
    published = [
        f"{d}: {p}"
        for d in sorted({t for s in config["runs"].values() for t in s["targets"]})
        for p in protocols_of(d)[len(config["splits"]["unseen_percent"]) :]
    ]
    return (
        "Targets zsar builds:\n"
        f"  results/<target>_<protocol>.json        the default run's result; target: {', '.join(config['default_run'])}\n"
        f"  results/<run>/<target>_<protocol>.json  run (its targets): {runs}\n"
        "  results/<run>/summary.csv, results/summary.csv\n"
        f"  protocol: {', '.join(f'0_{n}' for n in config['splits']['unseen_percent'])} (splits.unseen_percent in "
        f"config.yaml){'; published: ' + ', '.join(published) if published else ''}"
    )


def check_protocol(wildcards):
    """Stop before any job when a target asks for a protocol that is not configured (a typo)."""
    protocol = f"{wildcards.seen}_{wildcards.unseen}"
    if protocol not in protocols_of(wildcards.target):
        stop(
            f"{wildcards.target}_{protocol}: {wildcards.target} has no protocol {wildcards.seen}/{wildcards.unseen}.\n"
            + valid_targets()
        )


check_config_names()


# ---- the report (rules/report.smk) --------------------------------------------------------------


def report_results():
    """(run, target, protocol) of every result that the report shows: config's summary_runs."""
    return [
        (run, target, protocol)
        for run in config["summary_runs"]
        for target in run_settings(run)["targets"]
        for protocol in protocols(target)
    ]


def report_figures():
    """Every figure and table of the report; the default target builds them."""
    runs = config["summary_runs"]
    datasets = sorted({d for run in runs for d in [run_settings(run)["source"], *run_settings(run)["targets"]]})
    overlap = sorted({overlap_table(run).replace("semantic/", "plots/overlap/") for run in runs})
    return [
        "plots/results.png",
        "plots/results.html",
        "plots/summary.html",
        *[path.replace(".tsv", suffix) for path in overlap for suffix in ("_distances.png", "_map.png")],
        *[f"plots/{run}/training.png" for run in runs],
        *[
            f"plots/{run}/{target}_{protocol}_{figure}"
            for run, target, protocol in report_results()
            for figure in ("per_class.png", "confusion.png", "distance.png", "prototypes.png", "hubness.png")
        ],
        *[f"plots/{run}/{target}_{protocol}_composition.html" for run, target, protocol in report_results()],
        *[f"plots/data/{dataset}.html" for dataset in datasets],
    ]


def plot_classes_inputs(wildcards):
    settings = run_settings(wildcards.run)
    embedding = settings["embedding"]
    return {
        "result": "results/{run}/{target}_{seen}_{unseen}.json",
        "confusion": "results/{run}/{target}_{seen}_{unseen}.confusion.h5",
        "overlap": overlap_table(wildcards.run),
        "source_vectors": f"semantic/{embedding}/{settings['source']}.h5",
        "target_vectors": f"semantic/{embedding}/{wildcards.target}.h5",
    }


# ---- rules/index.smk -------------------------------------------------------


def index_inputs(wildcards):
    """The files the index is built from: rendered annotations, or the dataset's annotation files.

    A downloaded dataset's video folders are not inputs (a folder's time changes with any file in
    it); each video's size and time are, through the shard's `videos` parameter (shard_stamp).
    """
    if wildcards.dataset in RENDERED:
        return {
            "annotations": f"{DATA}/{wildcards.dataset}/annotations.csv",
            "videos": f"{DATA}/{wildcards.dataset}/videos",
        }
    require_data([wildcards.dataset])
    required = [f"{DATA}/{wildcards.dataset}/{rel}" for rel in manifest(wildcards.dataset)["required"]]
    return {"annotations": [path for path in required if os.path.isfile(path)]}


def listing_digest(wildcards):
    """The `listed` parameter of list_videos: which files the annotations point to on disk.

    Which folder and extension a video has is read from the disk (label folders with underscores,
    .webm or .mkv), not from the annotation files alone, so a change there relists.
    """
    if wildcards.dataset in RENDERED:
        return None
    return table_digest(listing(wildcards.dataset), ["video_id", "path", "label", "split"])


# ---- rules/semantics.smk ---------------------------------------------------


def description_files(wildcards):
    """A dataset's descriptions file (for manifests without descriptions) and corrections, if configured."""
    settings = config["descriptions"]
    files = {}
    for key, name in (("files", "descriptions"), ("corrections", "corrections")):
        if wildcards.dataset in settings[key]:
            files[name] = os.path.expanduser(settings[key][wildcards.dataset])
    return files


def objects_file(wildcards):
    """A dataset's object names per video: the user's file (objects.files), or the simulated
    detections of a rendered dataset."""
    files = config["objects"]["files"]
    if wildcards.dataset in files:
        return os.path.expanduser(files[wildcards.dataset])
    if wildcards.dataset in RENDERED:
        return f"{DATA}/{wildcards.dataset}/objects.tsv"
    stop(
        f"dataset '{wildcards.dataset}' has no object names per video: set objects.files.{wildcards.dataset} in "
        "config.yaml to a TSV (video_id, object names separated by ';') from your detector (README, "
        "\"JigsawNet's object branch\"), or set the run's model.objects to false"
    )


# ---- rules/train.smk -------------------------------------------------------


def train_inputs(wildcards):
    settings = run_settings(wildcards.run)
    source = settings["source"]
    return {
        "inputs": "models/{run}/inputs.json",
        # ancient: a cache re-cut into other shards, or recompressed, retrains nothing; inputs.json
        # changes when a video or the frames do.
        "clips": ancient(f"clips/{source}.parquet"),
        **class_side(wildcards.run, source),
        **video_objects(wildcards.run, source),
        "overlap": overlap_table(wildcards.run),
    }


def run_seed(wildcards):
    """The run's training seed: runs.<run>.seed, else the global seed (replicates of a study differ
    only in it). A run without its own seed keeps exactly the parameters it had."""
    run_settings(wildcards.run)  # an unknown run is named
    return config["runs"][wildcards.run].get("seed", config["seed"])


# ---- rules/extract.smk -----------------------------------------------------


def extract_gpus(wildcards):
    """One GPU when the run trains on GPUs (or extract.resources.gpu asks for more); cluster
    profiles turn it into a GPU request and partition. Not a rerun trigger."""
    trains_on_gpu = run_settings(wildcards.run)["resources"]["gpu"] > 0
    return max(config["extract"]["resources"]["gpu"], 1 if trains_on_gpu else 0)


def extract_resources():
    r = config["extract"]["resources"]
    return {"gpu": extract_gpus, "mem_mb": r["mem_mb"], "runtime": r["runtime"]}


def seen_inputs(wildcards):
    source = run_settings(wildcards.run)["source"]
    if wildcards.source != source:
        stop(
            f"features/{wildcards.run}/{wildcards.source}_seen: run '{wildcards.run}' trains on {source}, "
            f"so its seen features are features/{wildcards.run}/{source}_seen.h5"
        )
    return {
        "model": "models/{run}/model.pt",
        "clips": "clips/{source}/{shard}.h5",
        "catalogue": "clips/{source}.parquet",
        "overlap": overlap_table(wildcards.run),
        **video_objects(wildcards.run, source),
    }


# ---- rules/prototypes.smk --------------------------------------------------


def seen_prototype_inputs(wildcards):
    source = run_settings(wildcards.run)["source"]
    return {
        "features": f"features/{wildcards.run}/{source}_seen.h5",
        "index": f"index/{source}.parquet",
        "overlap": overlap_table(wildcards.run),
    }


def select_composition_inputs(wildcards):
    settings = run_settings(wildcards.run)
    source = settings["source"]
    return {
        "seen": "prototypes/{run}/seen.h5",
        "features": f"features/{wildcards.run}/{source}_seen.h5",
        "index": f"index/{source}.parquet",
        "seen_vectors": f"semantic/{settings['embedding']}/{source}.h5",
        # read for its n_unseen only (the one_se rule's held-out size), never its classes
        "splits": "splits/{target}_{seen}_{unseen}.json",
    }


def compose_inputs(wildcards):
    settings = run_settings(wildcards.run)
    inputs = {
        "seen": "prototypes/{run}/seen.h5",
        "splits": "splits/{target}_{seen}_{unseen}.json",
        "seen_vectors": f"semantic/{settings['embedding']}/{settings['source']}.h5",
        "target_vectors": f"semantic/{settings['embedding']}/{wildcards.target}.h5",
    }
    if config["compose"]["select"] == "cv":
        inputs["selection"] = "prototypes/{run}/composition_{target}_{seen}_{unseen}.json"
    return inputs


def fixed_composition():
    """compose.K, epsilon and d when they are not cross-validated (they are then not a rerun trigger)."""
    c = config["compose"]
    return {k: c[k] for k in ("K", "epsilon", "d")} if c["select"] == "fixed" else None


# ---- rules/score.smk -------------------------------------------------------


def score_inputs(wildcards):
    settings = run_settings(wildcards.run)
    check_protocol(wildcards)
    require_data([settings["source"], wildcards.target])
    embedding = settings["embedding"]
    scored_by = method_spec(settings["method"]).scores
    return {
        **({"phrases": "features/{run}/{target}_phrases.h5"} if "alignment" in scored_by else {}),
        "features": "features/{run}/{target}.h5",
        "index": f"index/{wildcards.target}.parquet",
        "prototypes": "prototypes/{run}/{target}_{seen}_{unseen}.h5",
        "seen": "prototypes/{run}/seen.h5",
        "splits": "splits/{target}_{seen}_{unseen}.json",
        "vectors": f"semantic/{embedding}/{wildcards.target}.h5",
        "source_vectors": f"semantic/{embedding}/{settings['source']}.h5",
        "model": "models/{run}/model.json",
    }


def provenance(wildcards):
    """Everything in config.yaml that this result depends on, recorded in the results JSON."""
    settings = run_settings(wildcards.run)
    datasets = [settings["source"], wildcards.target]
    return {
        "run": wildcards.run,
        # What a job asks a cluster for does not change the result, so it must not rerun scoring.
        **{k: v for k, v in settings.items() if k != "resources"},
        "seed": run_seed(wildcards),  # the training seed
        "overlap": config["overlap"],
        "embedding_spec": embedding_spec(settings["embedding"]),
        # How the cache is cut into shards, or compressed when raw, does not change a result.
        "decode": {
            d: {k: v for k, v in decode_settings(d).items() if k not in ("videos_per_shard", "compression")}
            for d in datasets
        },
        "seen_prototypes": config["seen_prototypes"],
        # The rendering of this result's own datasets (not of the other rendered worlds).
        "synthetic": (
            {
                **{k: v for k, v in config["synthetic"].items() if k != "videos_per_class"},
                "videos_per_class": {d: config["synthetic"]["videos_per_class"][d] for d in datasets if d in RENDERED},
            }
            if set(datasets) & set(RENDERED)
            else None
        ),
        "splits": config["splits"],
        "compose": config["compose"],
        # Only for methods that read descriptions: the other results keep their config as it was.
        **(
            {"descriptions": config["descriptions"]} if "class_phrases" in method_spec(settings["method"]).needs else {}
        ),
        **({"objects": config["objects"]} if settings["model"].get("objects") else {}),
    }


def default_run_result(wildcards):
    run = config["default_run"].get(wildcards.target)
    if run is None:
        manifest(wildcards.target)  # an unknown dataset is named first
        stop(
            f"no default run for target '{wildcards.target}': add it under default_run in config.yaml, "
            f"or ask for results/<run>/{wildcards.target}_{wildcards.seen}_{wildcards.unseen}.json.\n{valid_targets()}"
        )
    check_protocol(wildcards)
    return f"results/{run}/{wildcards.target}_{wildcards.seen}_{wildcards.unseen}.json"


def protocols(target):
    """The protocols tabulated for a target: its published splits if its manifest has them
    (Kinetics-ZSAR: 60 validation / 160 test classes), else the configured 0/N (0/50 and 0/100)."""
    return protocols_of(target)[-1:] if manifest(target).get("protocol_splits") else protocols_of(target)


# ---- rules/studies.smk -----------------------------------------------------


def study_settings(name):
    """A study of config's `studies`, checked: its reference, runs and targets exist."""
    import re

    studies = config["studies"]
    if name not in studies:
        stop(
            f"there is no study '{name}'{did_you_mean(name, studies)}; "
            + (
                f"the config's 'studies' defines: {', '.join(studies)}"
                if studies
                else "the config defines none: add a study file, e.g. --configfile config.yaml studies/rest_ablations.yaml"
            )
        )
    study = studies[name]
    variants = [row["variant"] for row in study["rows"]]
    if len(set(variants)) != len(variants):
        stop(f"study '{name}': each row needs its own variant name ({', '.join(variants)})")
    if study["reference"] not in variants:
        stop(f"study '{name}': reference '{study['reference']}' is not a row's variant ({', '.join(variants)})")
    for row in study["rows"]:
        if ("run" in row) == ("runs" in row):
            stop(f"study '{name}', row '{row['variant']}': give either run or runs (replicates)")
        for run in row.get("runs", [row.get("run")]):
            targets = run_settings(run)["targets"]
            for target in study["targets"]:
                match = re.fullmatch(r"([a-z0-9]+)_(\d+)_(\d+)", target)
                if not match or match[1] not in targets:
                    stop(
                        f"study '{name}': target '{target}' is not one of run '{run}''s results "
                        f"(results/{run}/<target>_<protocol>.json; its targets: {', '.join(targets)})"
                    )
                if f"{match[2]}_{match[3]}" not in protocols_of(match[1]):
                    stop(f"study '{name}': {match[1]} has no protocol {match[2]}/{match[3]}.\n{valid_targets()}")
    return study


def study_inputs(wildcards):
    """The results JSON of every run of the study's rows, for each of its targets, its model.json
    and, when (epsilon, K, d) are cross-validated, its composition selection per target."""
    study = study_settings(wildcards.study)
    runs = dict.fromkeys(run for row in study["rows"] for run in row.get("runs", [row.get("run")]))
    composed = config["compose"]["select"] == "cv"
    return (
        [f"results/{run}/{target}.json" for run in runs for target in study["targets"]]
        + [f"models/{run}/model.json" for run in runs]
        + [f"prototypes/{run}/composition_{target}.json" for run in runs for target in study["targets"] if composed]
    )
