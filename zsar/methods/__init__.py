"""The methods zsar trains, registered by name, without torch (the DAG reads this when it parses).

A method is a module of this package (zsar/methods/<name>.py, with torch) and one entry of
REGISTRY here. The entry says what the method needs from the semantic stages, how its videos are
scored, how it samples clips, and its papers' model and training settings; the module holds its
model and a `Training` class for the shared loop (zsar/training.py) plus `from_checkpoint`.

A run's `model` and `train` sections override the defaults; `resolve` completes them and names
any key that does not apply to the method.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

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
SCORES = ("word_vectors", "alignment")


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
    # Model keys a run may set besides the defaults' (a preset's own keys).
    extra_model_keys: frozenset = field(default_factory=frozenset)
    # Defaults of a model.arch other than the default one, applied before the run's own keys.
    arch_defaults: dict = field(default_factory=dict)
    # Train keys a run may set besides the defaults'. Like extra_model_keys, their defaults live in the
    # method's module: a new switch then leaves every existing run's resolved settings (and its cached
    # model) as they were.
    extra_train_keys: frozenset = field(default_factory=frozenset)
    # Raises ValueError for resolved (model, train) settings that cannot go together, so that the DAG
    # refuses them when it parses instead of a training job failing on a cluster.
    check: object = None
    # The files a run's method reads besides the class-name vectors and the clips, as functions of the
    # resolved model settings, so that the DAG's plan (zsar/workflow.py) names no method's inputs:
    #   class_files(model, dataset) -> {input name: path}   per dataset's classes (the class side)
    #   video_files(model, dataset) -> {input name: path}   per dataset's videos (beside the clips)
    class_files: object = None
    video_files_of: object = None
    # check_embeddings(model, embeddings): ValueError when the run's model names an embedding of config's
    # `embeddings` that it cannot use.
    embeddings_check: object = None
    # sections(model) -> config sections (beyond every result's own) that a result of this method
    # depends on, recorded in its provenance.
    sections: object = None

    def __post_init__(self):
        for what, given, known in (("needs", self.needs, NEEDS), ("scores", self.scores, SCORES)):
            unknown = sorted(set(given) - set(known))
            if unknown:
                raise ValueError(f"method '{self.name}': {what} {unknown} are not among {', '.join(known)}")

    @property
    def module(self):
        """The method's torch module (zsar.methods.<name>): its model and Training class."""
        return importlib.import_module(f"zsar.methods.{self.name}")

    def class_side_files(self, model: dict, dataset: str) -> dict:
        return self.class_files(model, dataset) if self.class_files else {}

    def video_files(self, model: dict, dataset: str) -> dict:
        return self.video_files_of(model, dataset) if self.video_files_of else {}

    def score_files(self, run: str, target: str) -> dict:
        """Per-run files that scoring reads besides the features (the projected atomic actions of
        a method scored by alignment)."""
        return {"phrases": f"features/{run}/{target}_phrases.h5"} if "alignment" in self.scores else {}

    def check_embeddings(self, model: dict, embeddings: dict) -> None:
        if self.embeddings_check:
            self.embeddings_check(model, embeddings)

    def config_sections(self, model: dict) -> tuple[str, ...]:
        return tuple(self.sections(model)) if self.sections else ()

    def sampling_preset(self, model_cfg: dict) -> str:
        """A run's default sampling preset: the one named like its model preset, else the method's."""
        preset = model_cfg.get("preset")
        return preset if preset in self.sampling_presets else self.default_sampling


def check_rest(model: dict, train: dict) -> None:
    """ResT's switches that cannot go together (the DAG's parse and ResT's constructor both ask)."""
    temporal, attention = model.get("temporal", "transformer"), model.get("attention", "single")
    if temporal != "transformer" and attention != "cross":
        raise ValueError(f"ResT model.temporal {temporal!r} needs model.attention: cross; in the single "
                         "cross-modal encoder the transformer itself is the temporal model")
    if train.get("cls_weight", 1.0) == 0 and train.get("mtl_weight") == 0:
        raise ValueError("ResT train.cls_weight and train.mtl_weight are both 0: nothing to train")


def _phrase_files(model: dict, dataset: str) -> dict:
    """JigsawNet's class side: the atomic actions embedded by its text encoder, and with
    model.text_layers their hidden states below the layers it trains."""
    encoder = model["text_encoder"]
    files = {"phrases": f"semantic/{encoder}/{dataset}_phrases.h5"}
    if model.get("text_layers"):
        files["phrase_states"] = f"semantic/{encoder}/{dataset}_phrases_top{model['text_layers']}.h5"
    return files


def _object_files(model: dict, dataset: str) -> dict:
    """JigsawNet's object branch (model.objects): the embedded object names of each video."""
    return {"objects": f"semantic/{model['text_encoder']}/{dataset}_objects.h5"} if model.get("objects") else {}


def _check_text_encoder(model: dict, embeddings: dict) -> None:
    from zsar.semantics import SENTENCE_KINDS

    sentence = [name for name, spec in embeddings.items()
                if spec["kind"] in SENTENCE_KINDS and spec.get("augment", "none") == "none"]
    if model["text_encoder"] not in sentence:
        raise ValueError(f"model.text_encoder '{model['text_encoder']}' must name a sentence embedding without "
                         f"augment of config.yaml's 'embeddings' ({', '.join(sentence) or 'none defined: add one of kind minilm'})")


def _jigsaw_sections(model: dict) -> tuple[str, ...]:
    return ("descriptions", *(("objects",) if model.get("objects") else ()))


# Shared by the training defaults of every method.
_LOADER = {"workers": 0, "processes": 1}

REGISTRY = {m.name: m for m in (
    Method(
        name="e2e",
        paper="Brattoli et al., CVPR 2020: a video model regressing the class-name word vector",
        needs=("class_vectors",),
        scores=("word_vectors",),
        model_defaults={"arch": "r2plus1d", "widths": [64, 128, 256, 512], "layers": [2, 2, 2, 2],
                        "dropout": 0.5},
        # C3D (Tables 1-2): five stages of 3x3x3 convolutions, fc6 and fc7 of `fc` units.
        # batch_norm: after each convolution (false: the 2015 network, which collapsed from scratch here).
        arch_defaults={"c3d": {"widths": [64, 128, 256, 512, 512], "layers": [1, 1, 2, 2, 2], "fc": 4096,
                               "batch_norm": True}},
        extra_model_keys=frozenset({"fc", "batch_norm"}),
        train_defaults={"epochs": 150, "batch_size": 22, "lr": 1e-3, "weight_decay": 0.0, "lr_milestones": [],
                        **_LOADER},
        # 16 frames, 112 crop, 25 test clips.
        sampling_presets={"e2e": {"frames": 16, "stride": 1, "crop": 112, "test_clips": 25}},
        default_sampling="e2e",
    ),
    Method(
        name="rest",
        paper="Lin et al., CVPR 2022: a cross-modal transformer, scored by composed prototypes",
        needs=("class_tokens",),
        scores=(),
        # preset: zsar/methods/rest.py PRESETS (rest18/rest34/rest101/tiny); depth, width, d_model,
        # layers and heads override the preset.
        model_defaults={"preset": "rest18", "dropout": 0.1},
        train_defaults={"warmup_epochs": 150, "warmup_lr": 0.01, "warmup_weight_decay": 1e-4, "momentum": 0.9,
                        "epochs": 50, "batch_size": 16, "lr": 1.5e-4, "weight_decay": 0.05, "mask_p": 0.15,
                        "mtl_weight": 0.5, **_LOADER},
        # 16/8/4 frames at stride 6 for ResNet-18/34/101, 224 crops; the test-time clip count is not
        # given in the paper, so the E2E protocol's 25 applies.
        sampling_presets={"rest18": {"frames": 16, "stride": 6, "crop": 224, "test_clips": 25},
                          "rest34": {"frames": 8, "stride": 6, "crop": 224, "test_clips": 25},
                          "rest101": {"frames": 4, "stride": 6, "crop": 224, "test_clips": 25}},
        default_sampling="rest18",
        # The ablation switches (zsar/methods/rest.py): attention (single/cross), temporal
        # (transformer/lstm/gru), backbone (resnet2d/r2plus1d); train.cls_weight (1; 0: MLM only).
        extra_model_keys=frozenset({"depth", "width", "d_model", "layers", "heads", "attention", "temporal",
                                    "backbone"}),
        extra_train_keys=frozenset({"cls_weight"}),
        check=check_rest,
    ),
    Method(
        name="jigsaw",
        paper="Qian et al., ECCV 2022 (JigsawNet): video segments aligned with the atomic actions of "
              "class descriptions",
        needs=("class_phrases",),
        scores=("alignment",),
        # preset: zsar/methods/jigsaw.py PRESETS (r2plus1d18/tiny); widths, layers, d, heads and segments
        # override it. ge: Group Excitation (off: Table 6's ablation); alignment: group (Eq. 3-4) or
        # one_to_one (Table 3's ablation); text_encoder: the embedding (a sentence kind) of the phrases;
        # objects: the object branch, from the object names per video of objects.files (zsar/objects.py);
        # text_layers: how many top layers of the text encoder train with the model (0: frozen).
        model_defaults={"preset": "r2plus1d18", "dropout": 0.1, "ge": True, "alignment": "group",
                        "text_encoder": "minilm", "objects": False, "text_layers": 0},
        # The paper: SGD, lr 1e-4 (UCF/HMDB) or 1e-5 (Kinetics-ZSAR), 15/20 epochs, eps 0.3; the
        # consistency loss's weight is not given there (consistency_weight 0: Table 4's ablation).
        # text_lr: the text layers' learning rate (null: lr).
        train_defaults={"epochs": 15, "batch_size": 16, "optimizer": "sgd", "lr": 1e-4, "momentum": 0.9,
                        "weight_decay": 0.0, "lr_milestones": [], "temperature": 0.05, "consistency_weight": 1.0,
                        "eps": 0.3, "text_lr": None, **_LOADER},
        # R(2+1)D clips as E2E's: 16 frames at 112, 25 test clips (4 segments of 4 frames).
        sampling_presets={"jigsaw": {"frames": 16, "stride": 1, "crop": 112, "test_clips": 25}},
        default_sampling="jigsaw",
        extra_model_keys=frozenset({"widths", "layers", "d", "heads", "segments"}),
        class_files=_phrase_files,
        video_files_of=_object_files,
        embeddings_check=_check_text_encoder,
        sections=_jigsaw_sections,
    ),
)}

# Every sampling preset by name (names are unique across methods).
SAMPLING_PRESETS = {name: preset for m in REGISTRY.values() for name, preset in m.sampling_presets.items()}


def method(name: str) -> Method:
    if name not in REGISTRY:
        raise ValueError(f"unknown method {name!r}; use one of {', '.join(REGISTRY)}")
    return REGISTRY[name]


def resolve(name: str, model: dict, train: dict) -> tuple[dict, dict]:
    """A run's model and train settings: the method's defaults, overridden by the run's own keys."""
    spec = method(name)
    model_keys = set(spec.model_defaults) | spec.extra_model_keys
    train_keys = set(spec.train_defaults) | spec.extra_train_keys
    for section, given, known in (("model", model, model_keys), ("train", train, train_keys)):
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValueError(f"{section} keys {unknown} do not apply to method '{name}'; "
                             f"it takes {', '.join(sorted(known))}")
    arch = spec.arch_defaults.get(model.get("arch"), {})
    for key in sorted(set(model) - set(spec.model_defaults) - set(arch)):
        owners = [a for a, defaults in spec.arch_defaults.items() if key in defaults]
        if owners:
            raise ValueError(f"model key '{key}' applies to arch {' or '.join(owners)} only, "
                             f"not to {model.get('arch', spec.model_defaults.get('arch'))}")
    resolved = {**spec.model_defaults, **arch, **model}, {**spec.train_defaults, **train}
    if spec.check is not None:
        spec.check(*resolved)
    return resolved
