"""The plan of the DAG: what each rule reads, what it depends on, and what the config may ask for.

The Snakefile's rules ask a `Plan` (rules/common.smk builds one per parse); it resolves and checks
runs, names the artefact paths, computes the rerun digests and the provenance of a result, all
without torch and without Snakemake, so that each answer is unit-tested on a config in memory.

A wrong setting raises `PlanError` with a message for the user (the run, the key, what is allowed);
rules/common.smk turns it into a clean stop before any job starts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re

from zsar.data.cache import FORMAT_VERSION as CACHE_FORMAT_VERSION, codec_settings, stored_frames
from zsar.data import video
from zsar.data.manifest import load_manifest, missing_data_message
from zsar.data.sampling import resolve_sampling
from zsar.io import ArtefactError, did_you_mean, read_json, write_json
from zsar.methods import EXECUTION_ONLY, SAMPLING_PRESETS, method as method_spec, resolve as resolve_method
from zsar.pipeline.codebase import closure, package_code, script_code
from zsar.zeroshot.predict_paths import AUTO, default_path, needs_composition, paths_of
from zsar.zeroshot.splits import FULL, has_official_splits

__all__ = ["CACHE_FORMAT_VERSION", "Plan", "PlanError", "codec_settings"]


class PlanError(ValueError):
    """A request the plan refuses: the message says what is wrong and what to do."""


def digest(value, size: int = 16) -> str:
    return hashlib.blake2b(json.dumps(value, sort_keys=True).encode(), digest_size=size).hexdigest()


@functools.cache
def _read_listing_summary(path: str, mtime_ns: int) -> dict:
    try:
        return read_json(path)
    except ArtefactError as error:
        raise PlanError(str(error)) from None


@functools.cache
def _shard_stamps(path: str, mtime_ns: int, n_shards: int) -> dict:
    from zsar.data.index import assign_shards, shard_stamps
    from zsar.io import read_parquet

    return shard_stamps(assign_shards(read_parquet(path), n_shards))


class Plan:
    """The DAG's answers for one config; every method is cached for the parse it serves."""

    def __init__(self, config: dict, basedir: str, await_listing=None):
        self.config = config
        # Called before a listing file is read: rules/common.smk passes the list_videos checkpoint.
        self.await_listing = await_listing or (lambda dataset: None)
        self.data = config["data_root"]
        self.basedir = basedir
        self.manifests = os.path.join(basedir, "data_manifest")
        self.datasets = sorted(n[: -len(".yaml")] for n in os.listdir(self.manifests) if n.endswith(".yaml"))
        self.rendered = sorted(config["synthetic"]["videos_per_class"])
        self._short_sides = {}  # run -> its sampling.short_side (None: each dataset's own), set by run()
        self._backends_checked = set()  # decode.backend values that load here

    # ---- datasets: manifests, what is on disk, shards -------------------------------------------

    @functools.cache
    def manifest(self, dataset: str) -> dict:
        try:
            return load_manifest(dataset, self.manifests, self.data)  # data: where a classes_file lies
        except ValueError as error:
            raise PlanError(str(error)) from None

    @functools.cache
    def _manifest_digests(self, dataset: str) -> tuple[str, str]:
        """(without, with) the class descriptions: digests of a manifest's content, comments left out."""
        content = {k: v for k, v in self.manifest(dataset).items() if not k.startswith("_")}
        classes = [
            {k: v for k, v in c.items() if k != "description"} if isinstance(c, dict) else c
            for c in content.get("classes", [])
        ]
        return tuple(
            hashlib.sha256(json.dumps(c, sort_keys=True, default=str).encode()).hexdigest()[:16]
            for c in ({**content, "classes": classes}, content)
        )

    def manifest_digest(self, dataset: str, descriptions: bool = False) -> str:
        """A stage's `manifest` parameter: the digest of its dataset's manifest.

        A parameter, not an input file: a changed manifest reruns the stage, while the path, which
        changes when the workflow or the results move, plays no part (scripts find the manifests
        beside themselves, zsar.data.manifest.workflow_manifests). Class descriptions count only for the
        stage that reads them (`descriptions`): editing one reparses atomic actions and retrains the
        runs that read them, nothing else.
        """
        return self._manifest_digests(dataset)[1 if descriptions else 0]

    def root(self, dataset: str) -> str:
        """A dataset's folder: <data_root>/<dataset>, or the folder under the data root its manifest's
        `root` names (a folder of videos to label, data_manifest/templates/videos.yaml)."""
        if dataset in self.rendered or dataset not in self.datasets:
            return f"{self.data}/{dataset}"
        return f"{self.data}/{self.manifest(dataset).get('root', dataset)}"

    def decode_settings(self, dataset: str) -> dict:
        decode = self.config["decode"]
        settings = {**{k: v for k, v in decode.items() if k != "overrides"}, **decode["overrides"].get(dataset, {})}
        if settings["backend"] not in self._backends_checked:
            try:
                video.check_backend(settings["backend"])
            except ValueError as error:
                raise PlanError(f"{error} (dataset {dataset})") from None
            self._backends_checked.add(settings["backend"])
        return settings

    def cache(self, dataset: str, short_side: int | None = None) -> str:
        """The name of `dataset`'s clip cache at `short_side`: the dataset's own name at its configured
        side (decode.short_side or its override; None), `{dataset}@{side}` at another. A dataset is
        cached once per side its runs read (E2E's 112 crops of 128, CLIP's 224 crops of 256)."""
        if short_side is None or short_side == self.decode_settings(dataset)["short_side"]:
            return dataset
        return f"{dataset}@{short_side}"

    @staticmethod
    def cache_dataset(cache: str) -> str:
        return cache.partition("@")[0]

    def cache_settings(self, cache: str) -> dict:
        """How a cache's frames are stored: its dataset's decode settings at the cache's short side."""
        dataset, _, side = cache.partition("@")
        settings = self.decode_settings(dataset)
        return {**settings, "short_side": int(side)} if side else settings

    def run_cache(self, run: str, dataset: str) -> str:
        """The cache a run reads `dataset` from: at its sampling.short_side, if it sets one."""
        self.run(run)
        return self.cache(dataset, self._short_sides[run])

    def require_data(self, datasets) -> None:
        """Refuse when a dataset the requested target needs is not on disk."""
        message = missing_data_message([self.manifest(d) for d in datasets], self.data)
        if message:
            raise PlanError(message)

    def listing_files(self, dataset: str) -> dict:
        """The listing of a downloaded dataset (rule list_videos): every listed video with its size and
        time, and the summary the plan reads."""
        return {"listed": f"index/{dataset}/listed.parquet", "summary": f"index/{dataset}/listed.json"}

    def listing_input(self, dataset: str, which: str = "listed") -> str:
        """A listing file, asked through `await_listing` (the list_videos checkpoint, which stops the
        question until the listing is up to date): as a rule's input, Snakemake then compares the
        parameters that read it only once it is. The videos themselves are never read here: a
        cluster job's parse stats none of them."""
        self.await_listing(dataset)
        return self.listing_files(dataset)[which]

    def _listing_version(self, dataset: str, which: str) -> tuple[str, int]:
        """A listing file and its time, the key under which its content is read once per version."""
        path = self.listing_input(dataset, which)
        try:
            return path, os.stat(path).st_mtime_ns
        except FileNotFoundError:
            raise PlanError(f"{path} is missing: run `snakemake {path}` to list {dataset}'s videos") from None

    def listing_summary(self, dataset: str) -> dict:
        return _read_listing_summary(*self._listing_version(dataset, "summary"))

    def n_videos(self, dataset: str) -> int:
        """Videos of the dataset to cut into shards: the rendered count, or those on disk."""
        if dataset in self.rendered:
            per_class = sum(self.config["synthetic"]["videos_per_class"][dataset].values())
            return per_class * len(self.manifest(dataset)["classes"])
        return self.listing_summary(dataset)["present"]

    def n_shards(self, dataset: str) -> int:
        """Shards follow the videos on disk: a partial copy gets fewer, fuller shards."""
        return max(1, math.ceil(self.n_videos(dataset) / self.decode_settings(dataset)["videos_per_shard"]))

    def shard_files(self, pattern: str, dataset: str, **fields) -> list[str]:
        """`pattern` ({dataset}, {shard} and the given fields) for every shard of the dataset."""
        return [pattern.format(dataset=dataset, shard=s, **fields) for s in range(self.n_shards(dataset))]

    def shard_stamp(self, dataset: str, shard: int) -> str | None:
        """The `videos` parameter of an index shard: a digest of its videos' paths, labels, splits,
        sizes and times, as the listing took them. Rendered datasets have none: render_synthetic
        tracks them."""
        if dataset in self.rendered:
            return None
        stamps = _shard_stamps(*self._listing_version(dataset, "listed"), self.n_shards(dataset))
        return stamps.get(int(shard), "no videos")

    def source_listing(self, run: str) -> list[str]:
        """training_inputs reads its downloaded source's listing summary (trained_frames_digest)."""
        source = self.run(run)["source"]
        return [] if source in self.rendered else [self.listing_input(source, "summary")]

    def listing_folders(self, dataset: str) -> str | None:
        """The `folders` parameter of list_videos: the times of the dataset's folders (zsar.data.listing's
        folder_stamps), so that a video added, removed or renamed lists the dataset again. A video
        overwritten in place under its name leaves them alone: `snakemake -R list_videos` lists again
        (docs/data.md)."""
        if dataset in self.rendered:
            return None
        from zsar.data.listing import folder_stamps

        return folder_stamps(self.root(dataset))

    def index_inputs(self, dataset: str) -> dict:
        """The files the index is built from: rendered annotations, or the dataset's annotation files.

        A downloaded dataset's video folders are not inputs (a folder's time changes with any file in
        it); each video's size and time are, through the shard's `videos` parameter (shard_stamp).
        """
        root = self.root(dataset)
        if dataset in self.rendered:
            return {"annotations": f"{root}/annotations.csv", "videos": f"{root}/videos"}
        if self.manifest(dataset).get("layout_kind") == "folder":  # every video under it: the folder is the input
            return {"annotations": [], "folder": root}
        self.require_data([dataset])
        required = [f"{root}/{rel}" for rel in self.manifest(dataset)["required"]]
        return {"annotations": [path for path in required if os.path.isfile(path)]}

    def trained_frames_digest(self, cache: str) -> str:
        """What a model trained on `dataset` saw, whatever the cache's cut into shards or its compression.

        The training stage's rerun trigger (its clip input is `ancient`): the listed videos with their
        sizes and times (or the rendering settings), the class list, the short side and whether frames
        are raw or JPEG of some quality. Changing videos_per_shard or the raw compression re-cuts the
        cache but retrains nothing; a changed, added or removed video retrains.
        """
        settings, dataset = self.cache_settings(cache), self.cache_dataset(cache)
        parts = {
            "manifest": self.manifest_digest(dataset),
            "short_side": settings["short_side"],
            "frames": stored_frames(settings),
            # the backend is not here: every one gives the same frames (zsar/data/video.py)
            "resize": video.RESIZE,
        }
        if dataset in self.rendered:
            synthetic = self.config["synthetic"]
            parts["videos"] = {key: synthetic[key] for key in ("seed", "frames", "size", "fps")}
            parts["videos"]["per_class"] = synthetic["videos_per_class"][dataset]
        else:
            parts["videos"] = self.listing_summary(dataset)["digest"]
        return digest(parts)

    def description_files(self, dataset: str) -> dict:
        """A dataset's descriptions file (for manifests without descriptions) and corrections, if configured."""
        settings = self.config["descriptions"]
        return {
            name: os.path.expanduser(settings[key][dataset])
            for key, name in (("files", "descriptions"), ("corrections", "corrections"))
            if dataset in settings[key]
        }

    def objects_file(self, dataset: str) -> str:
        """A dataset's object names per video: the user's file (objects.files), or the simulated
        detections of a rendered dataset."""
        files = self.config["objects"]["files"]
        if dataset in files:
            return os.path.expanduser(files[dataset])
        if dataset in self.rendered:
            return f"{self.root(dataset)}/objects.tsv"
        raise PlanError(
            f"dataset '{dataset}' has no object names per video: set objects.files.{dataset} in "
            "config.yaml to a TSV (video_id, object names separated by ';') from your detector (docs/methods.md, "
            "\"JigsawNet's object branch\"), or set the run's model.objects to false"
        )

    def bag_file(self, dataset: str, source: str) -> str:
        """A dataset's language source for MAXI's text bags (bags.phrases: class, phrase; bags.captions:
        video_id, caption): the user's file, or what the renderer simulates for a rendered dataset."""
        files = self.config["bags"][source]
        what = "class<TAB>phrase, phrases a language model wrote for each class name" if source == "phrases" else \
            "video_id<TAB>caption, a captioner's captions of a few frames of each video"
        if dataset in files:
            path = os.path.expanduser(files[dataset])
            if not os.path.isfile(path):
                raise PlanError(f"bags.{source}.{dataset} in config.yaml names {path}, which is not there: write it "
                                f"({what}; docs/methods.md, MAXI), point the key at yours, or leave {source} out of "
                                "the run's model.bags")
            return path
        if dataset in self.rendered:
            return f"{self.root(dataset)}/{source}.tsv"
        raise PlanError(f"dataset '{dataset}' has no {source} for MAXI's text bags: set bags.{source}.{dataset} in "
                        f"config.yaml to a TSV ({what}; docs/methods.md, MAXI), or leave {source} out of the run's "
                        "model.bags")

    def match_inputs(self, embedding: str, dataset: str, shard) -> dict:
        """match_videos: a clip shard, and the class prompts of the matching embedding (kind clip)."""
        spec = self.embedding(embedding)
        if spec["kind"] != "clip":
            raise PlanError(f"matches/{embedding}: embedding '{embedding}' is of kind {spec['kind']}, not clip")
        return {"clips": f"clips/{self.match_cache(embedding, dataset)}/{shard}.h5",
                "prompts": f"semantic/{embedding}/{dataset}.h5", "checkpoint": spec["checkpoint"]}

    def match_cache(self, embedding: str, dataset: str) -> str:
        """The cache match_videos reads: that of the runs matching `dataset` with this embedding (one
        matches file a dataset, so they must read one cache)."""
        runs = [run for run, settings in self.config["runs"].items()
                if settings.get("model", {}).get("match_embedding") == embedding and settings["source"] == dataset]
        caches = {run: self.run_cache(run, dataset) for run in runs}
        if len(set(caches.values())) > 1:
            raise PlanError(f"matches/{embedding}/{dataset}.h5 is one file, but the runs matching with it read "
                            f"{dataset} from different caches ({', '.join(f'{r}: clips/{c}' for r, c in caches.items())}): "
                            "give them the same sampling.short_side, or each its own match_embedding")
        return next(iter(caches.values()), dataset)

    def match_gpus(self, embedding: str) -> int:
        """One GPU when a run matching with this embedding trains on GPUs (or extract asks for more)."""
        runs = [run for run, settings in self.config["runs"].items()
                if settings.get("model", {}).get("match_embedding") == embedding]
        on_gpu = any(self.run(run)["resources"]["gpu"] > 0 for run in runs)
        return max(self.config["extract"]["resources"]["gpu"], 1 if on_gpu else 0)

    # ---- runs ------------------------------------------------------------------------------------

    def embedding(self, name: str) -> dict:
        embeddings = self.config["embeddings"]
        if name not in embeddings:
            raise PlanError(
                f"unknown embedding '{name}'{did_you_mean(name, embeddings)}; config.yaml's "
                f"'embeddings' defines: {', '.join(embeddings)}"
            )
        spec = dict(embeddings[name])
        for key in ("path", "checkpoint"):
            if key in spec:
                spec[key] = os.path.expanduser(spec[key])
        return spec

    def embeddings_of(self, clip: bool) -> str:
        """A wildcard constraint naming config's embeddings of kind clip (clip true) or of the other
        kinds: each kind's rule, embed_clip_classes or embed_classes, and so its code, is its own."""
        names = [name for name, spec in self.config["embeddings"].items() if (spec["kind"] == "clip") == clip]
        return "|".join(names) or "(?!)"

    def embedding_inputs(self, name: str) -> dict:
        """embed_classes' input files: a CLIP embedding's checkpoint (so that a new file re-embeds),
        checked to be of its arch when the DAG is built (zsar.models.clip.check_checkpoint)."""
        spec = self.embedding(name)
        if spec["kind"] != "clip":
            return {}
        if self.pretrained(name) is None:  # the user's file, checked now; a stand-in is built of its arch
            self._check_clip(name, spec["arch"], spec["checkpoint"])
        return {"checkpoint": spec["checkpoint"]}

    def pretrained(self, embedding: str) -> str | None:
        """The stand-in CLIP (config's `pretrain`) an embedding's checkpoint names as pretrained/<name>.pt,
        if it does; refused when its arch is not the stand-in's."""
        spec = self.embedding(embedding)
        match = re.fullmatch(r"pretrained/([A-Za-z0-9_-]+)\.pt", spec["checkpoint"])
        if match is None:
            return None
        settings = self.pretraining(match[1])
        if settings["arch"] != spec["arch"]:
            raise PlanError(f"embedding '{embedding}' in config.yaml names arch {spec['arch']} for {spec['checkpoint']}, "
                            f"which pretrain.{match[1]} trains as {settings['arch']}: set the same arch")
        return match[1]

    def pretraining(self, name: str) -> dict:
        stand_ins = self.config.get("pretrain", {})
        if name not in stand_ins:
            raise PlanError(f"pretrained/{name}.pt: config.yaml's `pretrain` has no '{name}'"
                            f"{did_you_mean(name, stand_ins)} (it defines: {', '.join(stand_ins) or 'none'})")
        return stand_ins[name]

    def _check_clip(self, name: str, arch: str, path: str) -> None:
        """The check reads the file's tensor shapes (memory-mapped) and open_clip's, which takes seconds
        to import: a file checked once, at its size and time, is not checked again
        (.snakemake/zsar_clip_checks.json)."""
        try:
            stat = os.stat(path)
        except OSError:
            stat = None
        record = os.path.join(".snakemake", "zsar_clip_checks.json")
        key = f"{arch}|{os.path.realpath(path)}|{stat and stat.st_size}|{stat and stat.st_mtime_ns}"
        checked = read_json(record) if os.path.exists(record) else []
        if key in checked:
            return
        from zsar.models.clip import check_checkpoint

        try:
            check_checkpoint(arch, path)
        except (OSError, ValueError) as error:
            raise PlanError(f"embedding '{name}' in config.yaml: {error}") from None
        os.makedirs(".snakemake", exist_ok=True)
        write_json(record, sorted({*checked, key}))

    @functools.cache
    def run(self, run: str) -> dict:
        """A run's settings, resolved (the method's defaults filled in) and checked."""
        runs = self.config["runs"]
        if run not in runs:
            raise PlanError(f"there is no run '{run}'{did_you_mean(run, runs)}.\n{self.valid_targets()}")
        settings = dict(runs[run])
        try:
            spec = method_spec(settings["method"])
            settings["model"], settings["train"] = resolve_method(settings["method"], settings["model"], settings["train"])
            # By default a run samples clips as its method's paper does.
            settings["sampling"] = resolve_sampling(settings["sampling"], spec.sampling_preset(settings["model"]),
                                                    {**SAMPLING_PRESETS, **spec.sampling_presets})
        except ValueError as error:
            raise PlanError(f"run '{run}' in config.yaml: {error}") from None
        if settings["source"] in settings["targets"]:
            raise PlanError(f"run '{run}' in config.yaml: its source {settings['source']} is also one of its targets; "
                            "a zero-shot target's classes must be unseen in training: train on another dataset")
        # Not a setting of the sampling: which cache a run reads (the frames' digest and the clip paths
        # carry it); null, or the dataset's own side, is the dataset's own cache.
        side = self._short_sides[run] = settings["sampling"].pop("short_side", None)
        crop = settings["sampling"]["crop"]
        for dataset in [settings["source"], *settings["targets"]]:
            cache = self.cache(dataset, side)
            short_side = self.cache_settings(cache)["short_side"]
            if crop > short_side:
                fix = (f"the run's sampling.short_side to at least {crop}" if side is not None else
                       f"decode.overrides.{dataset}.short_side in config.yaml to at least {crop}, or the run's "
                       "sampling.short_side (a cache at the run's side beside the dataset's own)")
                raise PlanError(f"run '{run}' crops {crop} pixels but clips/{cache} is cached at a short side of "
                                f"{short_side}: set {fix}.")
        embeddings = self.config["embeddings"]
        for key in ("embedding", "overlap_embedding"):
            if key in settings and settings[key] not in embeddings:
                raise PlanError(
                    f"run '{run}' names {key} '{settings[key]}', which config.yaml's 'embeddings' "
                    f"does not define ({', '.join(embeddings)})"
                )
        try:
            settings["model"] = {**settings["model"], **spec.from_embedding(settings["model"],
                                                                           self.embedding(settings["embedding"]))}
            spec.check_embeddings(settings["model"], embeddings)
        except ValueError as error:
            raise PlanError(f"run '{run}': {error}") from None
        gpus, processes = settings["resources"]["gpu"], settings["train"]["processes"]
        if gpus and gpus != processes:
            raise PlanError(
                f"run '{run}' in config.yaml trains in {processes} process(es) a node (train.processes) but asks "
                f"for {gpus} GPU(s) a node (resources.gpu): each process takes one GPU, so set resources.gpu: "
                f"{processes}, or train.processes: {gpus}"
            )
        return settings

    def train_resources(self, run: str) -> dict:
        """What train_model asks a cluster for: runs.<run>.resources, with the nodes of train.nodes.
        On one node `gpu` GPUs (the SLURM plugin's --gpus); on several, `gpu` a node as the
        generic resource gres, since --gpus counts the job's GPUs wherever SLURM places them."""
        settings = self.run(run)
        resources, nodes = dict(settings["resources"]), settings["train"].get("nodes", 1)
        resources["nodes"] = nodes
        if nodes > 1 and resources["gpu"]:
            resources["gres"], resources["gpu"] = f"gpu:{resources['gpu']}", 0
        return resources

    def method(self, run: str):
        """The torch-free spec of the run's method (zsar.methods)."""
        return method_spec(self.run(run)["method"])

    def seed(self, run: str) -> int:
        """The run's training seed: runs.<run>.seed, else the global seed (replicates of a study differ
        only in it). A run without its own seed keeps exactly the parameters it had."""
        self.run(run)  # an unknown run is named
        return self.config["runs"][run].get("seed", self.config["seed"])

    @functools.cache
    def overlap_inputs(self, embedding: str, source: str, targets: str) -> dict:
        """filter_overlap's inputs (`targets` as in its path, joined by "_").

        Where the class embeddings are on disk already, a tau that would keep too few training
        classes is refused here, before any job starts: the job would refuse it too, but only after
        Snakemake had deleted the table it replaces, and putting tau back would then retrain every
        model that reads the table.
        """
        targets = targets.split("_")
        inputs = {"source": f"semantic/{embedding}/{source}.h5",
                  "targets": [f"semantic/{embedding}/{t}.h5" for t in targets]}
        if all(os.path.isfile(p) for p in [inputs["source"], *inputs["targets"]]):
            from zsar.semantics.embedding import check_enough_kept, filter_overlap, read_class_embedding

            try:
                vectors = {t: read_class_embedding(p) for t, p in zip(targets, inputs["targets"])}
                table = filter_overlap(read_class_embedding(inputs["source"]), vectors, self.config["overlap"]["tau"])
            except Exception:  # an unreadable embedding: its own stage reports it
                return inputs
            try:
                check_enough_kept(table, self.config["overlap"]["tau"], source, targets)
            except ValueError as error:
                raise PlanError(str(error)) from None
        return inputs

    # ---- code: each stage's script and the zsar modules it runs (zsar/pipeline/codebase.py) ----------------

    def code(self, script: str) -> dict[str, str]:
        """A scripted rule's code parameters: its script and each zsar module it runs, by digest."""
        return script_code(script, self.basedir)

    def runs_method_code(self, script: str) -> bool:
        """Whether a script reaches a method's package (through the registry, by name)."""
        return "zsar.methods" in closure(script)

    def method_code(self, run: str) -> str:
        """The run's method package as one code parameter (every module in it)."""
        spec = self.method(run)
        return package_code(spec.package or f"zsar.methods.{spec.name}")

    def overlap_embedding(self, run: str) -> str:
        """The embedding whose class-name distances decide the overlap: runs.<run>.overlap_embedding
        (e.g. the word vectors other runs filter with, so that runs of several methods keep the same
        classes), else the run's own."""
        settings = self.run(run)
        return settings.get("overlap_embedding", settings["embedding"])

    def overlap_table(self, run: str) -> str:
        settings = self.run(run)
        return (f"semantic/{self.overlap_embedding(run)}/{settings['source']}_minus_"
                f"{'_'.join(settings['targets'])}.tsv")

    def class_vectors(self, run: str, dataset: str) -> str:
        """The class-name embedding of `dataset` in the run's embedding."""
        return f"semantic/{self.run(run)['embedding']}/{dataset}.h5"

    def class_side(self, run: str, dataset: str) -> dict:
        """The semantic files of `dataset`'s classes that the run's method reads: the class-name
        embedding, and whatever else its method asks for (JigsawNet: the embedded atomic actions)."""
        settings = self.run(run)
        return {
            "vectors": self.class_vectors(run, dataset),
            **self.method(run).class_files(settings["model"], dataset),
        }

    def video_side(self, run: str, dataset: str) -> dict:
        """Files the run's model reads per video besides its clips (JigsawNet's detected objects)."""
        return self.method(run).video_files(self.run(run)["model"], dataset)

    def test_video_side(self, run: str, dataset: str) -> dict:
        """The video side extraction reads: none for a method whose side only training reads (MAXI)."""
        return self.video_side(run, dataset) if self.method(run).test_reads_video_side else {}

    def training_inputs(self, run: str) -> dict:
        """The train_model job's input files; `clips` is marked ancient by the rule (inputs.json
        changes when a video or the frames do, not when the cache is re-cut)."""
        source = self.run(run)["source"]
        return {
            "inputs": f"models/{run}/inputs.json",
            "clips": f"clips/{self.run_cache(run, source)}.parquet",
            **self.class_side(run, source),
            **self.video_side(run, source),
            "overlap": self.overlap_table(run),
        }

    def training_record(self, run: str) -> dict:
        """models/{run}/inputs.json's content: what the model depends on besides files.

        The seed apart: runs.<run>.seed equal to the global seed retrains nothing."""
        settings = {k: v for k, v in self.run(run).items() if k not in ("resources", "seed")}
        settings["train"] = {k: v for k, v in settings["train"].items() if k not in EXECUTION_ONLY}
        return {"settings": settings, "seed": self.seed(run),
                "frames": self.trained_frames_digest(self.run_cache(run, settings["source"]))}

    # ---- extraction and prototypes -----------------------------------------------------------------

    def extract_gpus(self, run: str) -> int:
        """One GPU when the run trains on GPUs (or extract.resources.gpu asks for more); cluster
        profiles turn it into a GPU request and partition. Not a rerun trigger."""
        trains_on_gpu = self.run(run)["resources"]["gpu"] > 0
        return max(self.config["extract"]["resources"]["gpu"], 1 if trains_on_gpu else 0)

    def extract_inputs(self, run: str, dataset: str, shard) -> dict:
        return {
            "model": f"models/{run}/model.pt",
            "clips": f"clips/{self.run_cache(run, dataset)}/{shard}.h5",
            **self.test_video_side(run, dataset),
        }

    def seen_inputs(self, run: str, source: str, shard) -> dict:
        trained_on = self.run(run)["source"]
        if source != trained_on:
            raise PlanError(
                f"features/{run}/{source}_seen: run '{run}' trains on {trained_on}, "
                f"so its seen features are features/{run}/{trained_on}_seen.h5"
            )
        return {
            "model": f"models/{run}/model.pt",
            "clips": f"clips/{self.run_cache(run, source)}/{shard}.h5",
            "catalogue": f"clips/{self.run_cache(run, source)}.parquet",
            "overlap": self.overlap_table(run),
            **self.test_video_side(run, source),
        }

    def class_projection_inputs(self, run: str, dataset: str) -> dict:
        """extract_phrases: the class-side files of the method beyond the class-name vectors."""
        return {k: v for k, v in self.class_side(run, dataset).items() if k != "vectors"}

    def seen_prototype_inputs(self, run: str) -> dict:
        source = self.run(run)["source"]
        return {
            "features": f"features/{run}/{source}_seen.h5",
            "index": f"index/{source}.parquet",
            "overlap": self.overlap_table(run),
        }

    def select_composition_inputs(self, run: str, target: str, protocol: str) -> dict:
        settings = self.run(run)
        source = settings["source"]
        return {
            "seen": f"prototypes/{run}/seen.h5",
            "features": f"features/{run}/{source}_seen.h5",
            "index": f"index/{source}.parquet",
            "seen_vectors": self.class_vectors(run, source),
            # read for its n_unseen only (the one_se rule's held-out size), never its classes
            "splits": f"splits/{target}_{protocol}.json",
        }

    def compose_inputs(self, run: str, target: str, protocol: str) -> dict:
        settings = self.run(run)
        inputs = {
            "seen": f"prototypes/{run}/seen.h5",
            "splits": f"splits/{target}_{protocol}.json",
            "seen_vectors": self.class_vectors(run, settings["source"]),
            "target_vectors": self.class_vectors(run, target),
        }
        if self.config["compose"]["select"] == "cv":
            inputs["selection"] = f"prototypes/{run}/composition_{target}_{protocol}.json"
        return inputs

    def fixed_composition(self) -> dict | None:
        """compose.K, epsilon and d when they are not cross-validated (they are then not a rerun trigger)."""
        c = self.config["compose"]
        return {k: c[k] for k in ("K", "epsilon", "d")} if c["select"] == "fixed" else None

    # ---- protocols, scoring, provenance ------------------------------------------------------------

    def protocols_of(self, target: str) -> list[str]:
        """The protocols a target may be asked for: config's 0/N, and its published splits if any."""
        manifest = self.manifest(target)
        fixed = manifest.get("protocol_splits")
        published = [f"{len(fixed[0]['val'])}_{len(fixed[0]['test'])}"] if fixed else []
        published += [f"0_{FULL}"] if has_official_splits(manifest) else []
        return [f"0_{n}" for n in self.config["splits"]["unseen_percent"]] + published

    def protocols(self, target: str) -> list[str]:
        """The protocols tabulated for a target: its published splits if its manifest has them
        (Kinetics-ZSAR: 60 validation / 160 test classes), else the configured 0/N (0/50 and 0/100),
        and the full-class protocol on the official test lists where the dataset has them (0/full)."""
        protocols = self.protocols_of(target)
        return protocols[-1:] if self.manifest(target).get("protocol_splits") else protocols

    def valid_targets(self) -> str:
        config = self.config
        percents = config["splits"]["unseen_percent"]
        runs = "; ".join(f"{run} ({', '.join(s['targets'])})" for run, s in config["runs"].items())
        published = [
            f"{d}: {p}"
            for d in sorted({t for s in config["runs"].values() for t in s["targets"]})
            for p in self.protocols_of(d)[len(percents) :]
        ]
        return (
            "Targets zsar builds:\n"
            f"  results/<target>_<protocol>.json        the default run's result; target: {', '.join(config['default_run'])}\n"
            f"  results/<run>/<target>_<protocol>.json  run (its targets): {runs}\n"
            "  results/<run>/summary.csv, results/summary.csv\n"
            f"  protocol: {', '.join(f'0_{n}' for n in percents)} (splits.unseen_percent in "
            f"config.yaml){'; published: ' + ', '.join(published) if published else ''}"
        )

    def check_protocol(self, target: str, protocol: str) -> None:
        """Refuse a protocol the target does not have (a typo), before any job."""
        if protocol not in self.protocols_of(target):
            seen, unseen = protocol.split("_")
            raise PlanError(f"{target}_{protocol}: {target} has no protocol {seen}/{unseen}.\n{self.valid_targets()}")

    def score_inputs(self, run: str, target: str, protocol: str) -> dict:
        settings = self.run(run)
        self.check_protocol(target, protocol)
        self.require_data([settings["source"], target])
        return {
            **self.method(run).score_files(run, target),
            "features": f"features/{run}/{target}.h5",
            "index": f"index/{target}.parquet",
            "prototypes": f"prototypes/{run}/{target}_{protocol}.h5",
            "seen": f"prototypes/{run}/seen.h5",
            "splits": f"splits/{target}_{protocol}.json",
            "vectors": self.class_vectors(run, target),
            "source_vectors": self.class_vectors(run, settings["source"]),
            "model": f"models/{run}/model.json",
            **self.overlap_vectors(run, target),
        }

    def gzsl_inputs(self, run: str, target: str, protocol: str) -> dict:
        """results/{run}/{target}_gzsl_{unseen}.json: what the 0/N result of the same splits reads, and the
        source's held-out videos of the trained classes (embedded beside the seen prototypes' videos)."""
        source = self.run(run)["source"]
        return {
            **self.score_inputs(run, target, protocol),
            "seen_features": f"features/{run}/{source}_seen.h5",
            "source_index": f"index/{source}.parquet",
        }

    def overlap_vectors(self, run: str, dataset: str) -> dict:
        """The class vectors the overlap with `dataset` is checked in, where it was filtered: the run's
        overlap_embedding, when it is not the run's embedding."""
        settings, embedding = self.run(run), self.overlap_embedding(run)
        if embedding == settings["embedding"]:
            return {}
        return {"overlap_vectors": f"semantic/{embedding}/{dataset}.h5",
                "overlap_source_vectors": f"semantic/{embedding}/{settings['source']}.h5"}

    # ---- predictions for your own videos and class names -------------------------------------------

    def prediction_path(self, run: str) -> str:
        """The scoring path predictions take (predict.path; auto: the method's own)."""
        chosen = self.config["predict"]["path"]
        return default_path(self.method(run), self.run(run)["model"]) if chosen == AUTO else chosen

    def prediction_inputs(self, run: str, videos: str, classes: str) -> dict:
        """predictions/{run}/{videos}_{classes}.csv: the run's embeddings of the folder `videos`, and the
        class list `classes` as the run's path reads it (embedded names; its scorer's files; the
        composed prototypes of its one split of all classes for a composed path)."""
        settings = self.run(run)
        listed = self.manifest(classes).get("classes") or []
        if not listed and "classes_file" not in self.manifest(classes):
            raise PlanError(f"predictions/{run}/{videos}_{classes}.csv: {classes} has no classes to predict: name a "
                            f"class list (data_manifest/templates/classes.yaml) or a dataset with classes after the '_'")
        if "layout_kind" not in self.manifest(videos):
            raise PlanError(f"predictions/{run}/{videos}_{classes}.csv: {videos} has no videos (its manifest has no "
                            "layout_kind): name a folder of videos (data_manifest/templates/videos.yaml) before the '_'")
        self.require_data([videos])
        path, spec = self.prediction_path(run), self.method(run)
        allowed = paths_of(spec, settings["model"])
        if path not in allowed:
            raise PlanError(f"predict.path in config.yaml: {path!r} is not a path run '{run}' ({spec.name}) labels "
                            f"videos by; use auto or one of {', '.join(allowed)}")
        inputs = {
            "features": f"features/{run}/{videos}.h5",
            "index": f"index/{videos}.parquet",
            "vectors": self.class_vectors(run, classes),
            "source_vectors": self.class_vectors(run, settings["source"]),
            "model": f"models/{run}/model.json",
            **self.overlap_vectors(run, classes),
        }
        if needs_composition(path):
            protocol = "0_100"
            self.check_protocol(classes, protocol)
            inputs.update(prototypes=f"prototypes/{run}/{classes}_{protocol}.h5", seen=f"prototypes/{run}/seen.h5")
        elif path != "e2e":
            inputs.update(spec.score_files(run, classes))
        return inputs

    def provenance(self, run: str, target: str) -> dict:
        """Everything in config.yaml that this result depends on, recorded in the results JSON."""
        config = self.config
        settings = self.run(run)
        datasets = [settings["source"], target]
        rendered = [d for d in datasets if d in self.rendered]
        caches = {d: self.run_cache(run, d) for d in datasets}
        return {
            "run": run,
            # What a job asks a cluster for does not change the result, so it must not rerun scoring.
            **{k: v for k, v in settings.items() if k != "resources"},
            "seed": self.seed(run),  # the training seed
            "overlap": config["overlap"],
            "embedding_spec": self.embedding(settings["embedding"]),
            # How the cache is cut into shards, or compressed when raw, does not change a result, nor which
            # decoder read the videos (every backend gives the same frames: zsar/data/video.py).
            "decode": {
                d: {
                    k: v
                    for k, v in self.cache_settings(caches[d]).items()
                    if k not in ("videos_per_shard", "compression", "backend")
                }
                for d in datasets
            },
            # A run at a short side of its own reads caches of their own (a key only then: the results
            # of other runs keep their provenance).
            **({"caches": caches} if any(c != d for d, c in caches.items()) else {}),
            "seen_prototypes": config["seen_prototypes"],
            # The rendering of this result's own datasets (not of the other rendered worlds).
            "synthetic": (
                {
                    **{k: v for k, v in config["synthetic"].items() if k != "videos_per_class"},
                    "videos_per_class": {d: config["synthetic"]["videos_per_class"][d] for d in rendered},
                }
                if rendered
                else None
            ),
            "splits": config["splits"],
            "compose": config["compose"],
            # Only the sections the method reads: the other results keep their config as it was.
            **{key: config[key] for key in self.method(run).config_sections(settings["model"])},
        }

    def default_result(self, target: str, protocol: str) -> str:
        run = self.config["default_run"].get(target)
        if run is None:
            self.manifest(target)  # an unknown dataset is named first
            raise PlanError(
                f"no default run for target '{target}': add it under default_run in config.yaml, "
                f"or ask for results/<run>/{target}_{protocol}.json.\n{self.valid_targets()}"
            )
        self.check_protocol(target, protocol)
        return f"results/{run}/{target}_{protocol}.json"

    def run_results(self, run: str) -> list[str]:
        """results/{run}/summary.csv's inputs: every target and protocol of the run."""
        return [f"results/{run}/{t}_{p}.json" for t in self.run(run)["targets"] for p in self.protocols(t)]

    # ---- the checks of the whole config ------------------------------------------------------------

    def check_config_names(self) -> None:
        """Refuse a config key or value that names a dataset or run that does not exist.

        JSON schema checks the shape of the config; these names it cannot know, and a misspelt one
        would otherwise be silently ignored (an override that never applies).
        """
        config, datasets, runs = self.config, self.datasets, list(self.config["runs"])

        def known(where, names, choices, what):
            for name in names:
                if name not in choices:
                    raise PlanError(
                        f"config: {where} names '{name}', which is not {what}{did_you_mean(name, choices)}. "
                        f"Known: {', '.join(choices)}."
                    )

        dataset = "a dataset (data_manifest/)"
        known("decode.overrides", config["decode"]["overrides"], datasets, dataset)
        for key in ("files", "corrections"):
            known(f"descriptions.{key}", config["descriptions"][key], datasets, dataset)
        known("objects.files", config["objects"]["files"], datasets, dataset)
        known("synthetic.videos_per_class", self.rendered, datasets, dataset)
        for name in self.rendered:
            if self.manifest(name)["kind"] != "rendered":
                raise PlanError(
                    f"config: synthetic.videos_per_class names '{name}', which the pipeline does not render "
                    f"({self.manifest(name)['_path']} says kind: {self.manifest(name)['kind']}); "
                    "list rendered datasets only."
                )
        known("default_run", config["default_run"], datasets, dataset)
        known("default_run values", config["default_run"].values(), runs, "a run in 'runs'")
        known("summary_runs", config["summary_runs"], runs, "a run in 'runs'")
        for run, settings in config["runs"].items():
            known(f"runs.{run}.source/targets", [settings["source"], *settings["targets"]], datasets, dataset)

    # ---- the report --------------------------------------------------------------------------------

    def report_results(self) -> list[tuple[str, str, str]]:
        """(run, target, protocol) of every result that the report shows: config's summary_runs."""
        return [
            (run, target, protocol)
            for run in self.config["summary_runs"]
            for target in self.run(run)["targets"]
            for protocol in self.protocols(target)
        ]

    def default_targets(self) -> list[str]:
        """What `snakemake` with no target builds: config's all_targets, every result of the summary's
        runs (named, so that a deleted one is rebuilt, not only the tables made from it) and the report."""
        results = [path for run in self.config["summary_runs"] for path in self.run_results(run)]
        return list(dict.fromkeys([*self.config["all_targets"], *results, *self.report_figures()]))

    def report_figures(self) -> list[str]:
        """Every figure and table of the report; the default target builds them."""
        runs = self.config["summary_runs"]
        datasets = sorted({d for run in runs for d in [self.run(run)["source"], *self.run(run)["targets"]]})
        overlap = sorted({self.overlap_table(run).replace("semantic/", "plots/overlap/") for run in runs})
        per_result = ("per_class.png", "confusion.png", "distance.png", "prototypes.png", "hubness.png",
                      "composition.html")
        return [
            "plots/results.png",
            "plots/results.html",
            "plots/summary.html",
            *[path.replace(".tsv", suffix) for path in overlap for suffix in ("_distances.png", "_map.png")],
            *[f"plots/{run}/training.png" for run in runs],
            *[f"plots/{run}/{t}_{p}_{figure}" for run, t, p in self.report_results() for figure in per_result],
            *[f"plots/data/{dataset}.html" for dataset in datasets],
        ]

    def plot_classes_inputs(self, run: str, target: str, protocol: str) -> dict:
        settings = self.run(run)
        return {
            "result": f"results/{run}/{target}_{protocol}.json",
            "confusion": f"results/{run}/{target}_{protocol}.confusion.h5",
            "overlap": self.overlap_table(run),
            "source_vectors": self.class_vectors(run, settings["source"]),
            "target_vectors": self.class_vectors(run, target),
        }

    # ---- studies -----------------------------------------------------------------------------------

    def study(self, name: str) -> dict:
        """A study of config's `studies`, checked: its reference, runs and targets exist."""
        studies = self.config["studies"]
        if name not in studies:
            raise PlanError(
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
            raise PlanError(f"study '{name}': each row needs its own variant name ({', '.join(variants)})")
        if study["reference"] not in variants:
            raise PlanError(f"study '{name}': reference '{study['reference']}' is not a row's variant ({', '.join(variants)})")
        for row in study["rows"]:
            if ("run" in row) == ("runs" in row):
                raise PlanError(f"study '{name}', row '{row['variant']}': give either run or runs (replicates)")
            for run in row.get("runs", [row.get("run")]):
                targets = self.run(run)["targets"]
                for target in study["targets"]:
                    match = re.fullmatch(r"([a-z0-9]+)_(\d+)_(\d+|full)", target)
                    if not match or match[1] not in targets:
                        raise PlanError(
                            f"study '{name}': target '{target}' is not one of run '{run}''s results "
                            f"(results/{run}/<target>_<protocol>.json; its targets: {', '.join(targets)})"
                        )
                    if f"{match[2]}_{match[3]}" not in self.protocols_of(match[1]):
                        raise PlanError(
                            f"study '{name}': {match[1]} has no protocol {match[2]}/{match[3]}.\n{self.valid_targets()}"
                        )
        return study

    def study_inputs(self, name: str) -> list[str]:
        """The results JSON of every run of the study's rows, for each of its targets, its model.json
        and, when (epsilon, K, d) are cross-validated, its composition selection per target."""
        study = self.study(name)
        runs = dict.fromkeys(run for row in study["rows"] for run in row.get("runs", [row.get("run")]))
        composed = self.config["compose"]["select"] == "cv"
        return (
            [f"results/{run}/{target}.json" for run in runs for target in study["targets"]]
            + [f"models/{run}/model.json" for run in runs]
            + [f"prototypes/{run}/composition_{target}.json" for run in runs for target in study["targets"] if composed]
        )
