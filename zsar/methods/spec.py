"""What a method is to the rest of zsar: its torch-free spec (the DAG reads it when it parses).

A method is a package zsar/methods/<name>/: its `__init__.py` defines SPEC, a `Method` (no torch),
and its `model.py` the model and a `Training` class for the shared loop (zsar/models/training.py) plus
`from_checkpoint`. The spec says what the method needs from the semantic stages and per video,
how its videos are scored, how it samples clips, and its papers' model and training settings;
generic code asks the spec and names no method.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

# What a method may need of the class side, besides the kept class names:
#   class_vectors   the class-name embeddings (semantic/{embedding}/{source}.h5 vectors)
#   class_tokens    the words the class names were embedded from (the same file's tokens)
#   class_phrases   each class's atomic actions (verb phrases of its description, semantic/atomic/)
#                   embedded by a sentence encoder (semantic/{text_encoder}/{dataset}_phrases.h5)
NEEDS = ("class_vectors", "class_tokens", "class_phrases")

# How a method's video embeddings are scored, besides the composed prototypes every method gets
# (ResT's semantic relatedness transfer works in any embedding space):
#   word_vectors    nearest class word vector: the model embeds videos in the word-vector space
#   alignment       the model's alignment of video segments with the class's projected phrases
#   prompts         nearest class prompt through the model's own (trained) text tower
SCORES = ("word_vectors", "alignment", "prompts")


def _accept(*settings) -> None:
    pass


def _no_files(model: dict, dataset: str) -> dict:
    return {}


def _read_nothing(files: dict) -> dict:
    if files:
        raise ValueError(f"the method names class files ({', '.join(files)}) but has no read_class_side to read them")
    return {}


def _no_video_side(files: dict) -> None:
    raise ValueError(f"the method names files per video ({', '.join(files)}) but has no read_video_side to read them")


def _no_scorer(model_info: dict, inputs: dict) -> None:
    return None


def _no_sections(model: dict) -> tuple:
    return ()


def _nothing_of_embedding(model: dict, embedding: dict) -> dict:
    return {}


@dataclass(frozen=True)
class Method:
    name: str
    paper: str
    needs: tuple[str, ...]
    scores: tuple[str, ...]
    model_defaults: dict
    train_defaults: dict
    # Clip sampling presets named after the papers' settings; `sampling_preset` picks a run's default.
    sampling_presets: dict
    default_sampling: str
    # The score paths (zsar.zeroshot.scoring.PATHS) of the method's own scorer, the first present in a result being
    # the path its paper reports; a method without one (ResT) is judged by its composed prototypes.
    paths: tuple = ()
    # Model presets by name (model.preset): the papers' sizes and a tiny one; a run's keys override them.
    model_presets: dict = field(default_factory=dict)
    # Model keys a run may set besides the defaults' (a preset's own keys).
    extra_model_keys: frozenset = field(default_factory=frozenset)
    # Defaults of a model.arch other than the default one, applied before the run's own keys.
    arch_defaults: dict = field(default_factory=dict)
    # Train keys a run may set besides the defaults'. Like extra_model_keys, their defaults live in the
    # method's module: a new switch then leaves every existing run's resolved settings (and its cached
    # model) as they were.
    extra_train_keys: frozenset = field(default_factory=frozenset)
    # The Python package the spec comes from; its `model` module holds the torch side. Empty: zsar's
    # own, zsar.methods.<name>.
    package: str = ""
    # The hooks below are functions of the run's resolved settings; a method without one keeps the
    # default, which asks for nothing and refuses nothing.
    # check(model, train): ValueError for settings that cannot go together, so that the DAG refuses
    # them when it parses instead of a training job failing on a cluster.
    check: Callable[[dict, dict], None] = _accept
    # class_files(model, dataset) / video_files(model, dataset) -> {input name: path}: the files the
    # method reads besides the class-name vectors and the clips, per dataset's classes (the class
    # side) and per dataset's videos, so that the DAG's plan (zsar/pipeline/plan.py) names no method's inputs.
    class_files: Callable[[dict, str], dict] = _no_files
    video_files: Callable[[dict, str], dict] = _no_files
    # read_class_side(files) -> {need: value}: the files class_files named, read into the entries of
    # NEEDS that training passes to the method's Training (the class_vectors and class_tokens of
    # every method come from the class-name embedding, read by the training stage itself).
    read_class_side: Callable[[dict], dict] = _read_nothing
    # read_video_side(files) -> a VideoSide (below) of the files video_files named, read: what the
    # model takes of each video besides its clips, as keyword arguments of its loss and `embed`.
    read_video_side: Callable[[dict], object] = _no_video_side
    # check_embeddings(model, embeddings): ValueError when the run's model names an embedding of
    # config's `embeddings` that it cannot use.
    check_embeddings: Callable[[dict, dict], None] = _accept
    # scorer(model_info, inputs) -> an object with scorers(unseen) -> {path: scores of embeddings} and
    # split_stats(videos, embeddings, unseen) -> {key: value}: the method's own scorer at test time
    # (`scores`), given models/{run}/model.json and the files of score_files; None: none of its own.
    scorer: Callable[[dict, dict], object] = _no_scorer
    # config_sections(model) -> config sections (beyond every result's own) that a result of this
    # method depends on, recorded in its provenance.
    config_sections: Callable[[dict], tuple] = _no_sections
    # from_embedding(model, embedding) -> model settings the method takes from the run's embedding
    # spec (CLIP's arch and checkpoint: the class prompts' text tower and the videos' image tower are
    # one model's); ValueError for an embedding it cannot take. Part of the run's resolved settings.
    from_embedding: Callable[[dict, dict], dict] = _nothing_of_embedding
    # Whether extraction reads the video side too (JigsawNet's objects feed its embedding), or only
    # training does (MAXI's text bags): then target videos need no such files.
    test_reads_video_side: bool = True

    def __post_init__(self):
        for what, given, known in (("needs", self.needs, NEEDS), ("scores", self.scores, SCORES)):
            unknown = sorted(set(given) - set(known))
            if unknown:
                raise ValueError(f"method '{self.name}': {what} {unknown} are not among {', '.join(known)}")

    @property
    def module(self):
        """The method's torch module (<package>.model): its model and Training class."""
        return importlib.import_module(f"{self.package or 'zsar.methods.' + self.name}.model")

    def video_side(self, files: dict):
        """The VideoSide of the per-video files given (as video_files names them), or None without any."""
        return self.read_video_side(files) if files else None

    def score_files(self, run: str, target: str) -> dict:
        """Per-run files that scoring reads besides the features (the projected atomic actions of
        a method scored by alignment; the class prompts through its text tower, one scored by prompts)."""
        files = {"phrases": f"features/{run}/{target}_phrases.h5"} if "alignment" in self.scores else {}
        if "prompts" in self.scores:
            files["prompts"] = f"features/{run}/{target}_prompts.h5"
        return files

    def sampling_preset(self, model_cfg: dict) -> str:
        """A run's default sampling preset: the one named like its model preset, else the method's."""
        preset = model_cfg.get("preset")
        return preset if preset in self.sampling_presets else self.default_sampling


class VideoSide(Protocol):
    """What a model takes of each video besides its clips (JigsawNet's detected objects), read from
    the files a spec's video_files names. The clip datasets (zsar/data/clips.py) add `of(video_id)`
    to each sample, so that every key reaches the method's loss module and `embed` as a keyword
    argument of the same name, batched, and the generic code names none of them."""

    digest: str  # what the inputs are, for a training checkpoint's fingerprint

    def of(self, video_id: str) -> dict:
        """{keyword: numpy array or scalar} for one video (a video the files lack gets its empty value)."""

    def check(self, video_ids, what: str, required: bool = True) -> str:
        """A line for the log on how many of `video_ids` (the `what`: "training videos") have inputs;
        when `required` (training), ValueError if none has, with what the files should hold instead."""

    # Optional: select(classes, video_ids, model) -> (the video ids to train on, a line for the log),
    # called by training with the kept classes and the training videos before the first epoch (MAXI
    # keeps each matched name's most confident videos and builds their bags there).


def check_stages(model: dict, what: str) -> None:
    """A backbone's stages: model.widths (channels) and model.layers (blocks or convolutions) are
    lists of positive integers, one of each per stage."""
    widths, layers = model.get("widths"), model.get("layers")
    for key, value in (("widths", widths), ("layers", layers)):
        if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, int) and v > 0 for v in value):
            raise ValueError(f"model.{key} of {what} must be a list of positive integers, one per stage "
                             f"(e.g. {list(widths) if key == 'widths' and isinstance(widths, list) else [1] * 4}), "
                             f"not {value!r}")
    if len(widths) != len(layers):
        raise ValueError(f"model.widths {list(widths)} and model.layers {list(layers)} of {what} must have one "
                         "entry per stage, the same number")


def check_heads(width: int, heads: int, what: str) -> None:
    if heads < 1 or width % heads:
        raise ValueError(f"{what} splits its width {width} into {heads} attention heads: choose heads that divide it")


# Shared by the training defaults of every method.
LOADER = {"workers": 0, "processes": 1}
# Loader settings every method takes besides LOADER's, with their defaults applied by the training
# loop (so that existing runs' resolved settings stay as they were): an epoch reads the clip cache
# in runs of `shard_window` shards (zsar.data.clips.ShardRuns), each loader process keeping at most
# `open_shards` shard files open. With `decode_threads` > 0 the training process decodes the clips
# itself, in that many threads (zsar.data.clips.ThreadFeed), instead of `workers` loader processes.
# `nodes`: machines the run trains on, `processes` each (zsar.models.training, torch's elastic launcher).
LOADER_OPTIONS = {"shard_window": 8, "open_shards": 32, "decode_threads": 0, "nodes": 1}
# How the training step uses its device, defaults applied by the training loop too: `precision`
# auto is bfloat16 autocast on a GPU that has it, float16 with a gradient scaler on one that has
# not, float32 on the CPU; `channels_last` auto stores convolutions' tensors channels-last on a
# GPU; `deterministic` false lets cuDNN benchmark its algorithms (faster, not bitwise repeatable);
# `compile` true (or a torch.compile backend's name) compiles the loss module; `decode` device
# sends the training clips' frames as JPEG and decodes them on the model's device (zsar.data.jpeg).
DEVICE_OPTIONS = {"precision": "auto", "channels_last": "auto", "deterministic": True, "compile": False,
                  "decode": "cpu"}
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
# Train settings that change how fast a model trains, not what it learns: left out of a run's
# training record and of a checkpoint's fingerprint, so setting one retrains nothing, and a job
# killed under one setting resumes under another.
EXECUTION_ONLY = ("decode_threads", "open_shards", "channels_last", "deterministic", "compile", "decode")
