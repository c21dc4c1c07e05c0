"""JigsawNet (Qian et al., ECCV 2022): video segments aligned with the atomic actions of class
descriptions.

The spec, without torch; the model and its training are in model.py. Besides the class-name
vectors, JigsawNet reads its classes' atomic actions embedded by a sentence encoder, and, with
model.objects, the object names detected in each video.
"""

from zsar.methods.spec import LOADER, Method, check_heads, check_stages

# The paper's size (d=768, h=8, eps=0.3) on R(2+1)D-18 widths and depth; the paper's backbone is
# R(2+1)D-34 (layers (3, 4, 6, 3)), which `layers` overrides. A tiny one for the synthetic world and tests.
PRESETS = {
    "r2plus1d18": {"widths": [64, 128, 256, 512], "layers": [2, 2, 2, 2], "d": 768, "heads": 8, "segments": 4},
    "tiny": {"widths": [8, 16, 32, 64], "layers": [1, 1, 1, 1], "d": 32, "heads": 2, "segments": 2},
}


def check_jigsaw(model: dict, train: dict) -> None:
    """The shapes of the preset with the run's overrides, as the model will be built."""
    shape = {**PRESETS[model["preset"]], **model}
    check_stages(shape, "JigsawNet's R(2+1)D backbone")
    check_heads(shape["d"], shape["heads"], "JigsawNet's Group Excitation")


def phrase_files(model: dict, dataset: str) -> dict:
    """The class side: the atomic actions embedded by the text encoder, and with model.text_layers
    their hidden states below the layers that train."""
    encoder = model["text_encoder"]
    files = {"phrases": f"semantic/{encoder}/{dataset}_phrases.h5"}
    if model.get("text_layers"):
        files["phrase_states"] = f"semantic/{encoder}/{dataset}_phrases_top{model['text_layers']}.h5"
    return files


def object_files(model: dict, dataset: str) -> dict:
    """The object branch (model.objects): the embedded object names of each video."""
    return {"objects": f"semantic/{model['text_encoder']}/{dataset}_objects.h5"} if model.get("objects") else {}


def read_phrases(files: dict) -> dict:
    """The class side as training takes it: the embedded atomic actions (class_phrases), and with
    model.text_layers their hidden states below those layers and the layers' pretrained weights."""
    from zsar.semantics.embedding import read_phrase_embeddings

    phrases = read_phrase_embeddings(files["phrases"])
    if "phrase_states" in files:
        from zsar.semantics.text_encoder import read_phrase_states

        states = read_phrase_states(files["phrase_states"], phrases)
        phrases.update(states=states["states"], mask=states["mask"], text_top=states["config"],
                       text_weights=states["weights"])
    return {"class_phrases": phrases}


def read_objects(files: dict):
    """The object branch's inputs per video (objects, present) from the embedded object names."""
    from zsar.semantics.objects import read_video_objects

    return read_video_objects(files["objects"])


def check_text_encoder(model: dict, embeddings: dict) -> None:
    from zsar.semantics.embedding import SENTENCE_KINDS

    sentence = [name for name, spec in embeddings.items()
                if spec["kind"] in SENTENCE_KINDS and spec.get("augment", "none") == "none"]
    if model["text_encoder"] not in sentence:
        raise ValueError(f"model.text_encoder '{model['text_encoder']}' must name a sentence embedding without "
                         "augment of config.yaml's 'embeddings' "
                         f"({', '.join(sentence) or 'none defined: add one of kind minilm'})")


def alignment_scorer(model_info: dict, inputs: dict):
    from zsar.methods.jigsaw.alignment import scorer

    return scorer(model_info, inputs)


def config_sections(model: dict) -> tuple[str, ...]:
    """The descriptions its atomic actions come from, and the objects when it reads them."""
    return ("descriptions", *(("objects",) if model.get("objects") else ()))


SPEC = Method(
    name="jigsaw",
    paper="Qian et al., ECCV 2022 (JigsawNet): video segments aligned with the atomic actions of "
          "class descriptions",
    needs=("class_phrases",),
    scores=("alignment",),
    paths=("alignment", "alignment_one_to_one"),
    # preset: PRESETS above (r2plus1d18/tiny); widths, layers, d, heads and segments override it.
    # ge: Group Excitation (off: Table 6's ablation); alignment: group (Eq. 3-4) or one_to_one
    # (Table 3's ablation); text_encoder: the embedding (a sentence kind) of the phrases; objects: the
    # object branch, from the object names per video of objects.files (zsar/semantics/objects.py); text_layers:
    # how many top layers of the text encoder train with the model (0: frozen).
    model_defaults={"preset": "r2plus1d18", "dropout": 0.1, "ge": True, "alignment": "group",
                    "text_encoder": "minilm", "objects": False, "text_layers": 0},
    model_presets=PRESETS,
    # The paper: SGD, lr 1e-4 (UCF/HMDB) or 1e-5 (Kinetics-ZSAR), 15/20 epochs, eps 0.3; the
    # consistency loss's weight is not given there (consistency_weight 0: Table 4's ablation).
    # text_lr: the text layers' learning rate (null: lr).
    train_defaults={"epochs": 15, "batch_size": 16, "optimizer": "sgd", "lr": 1e-4, "momentum": 0.9,
                    "weight_decay": 0.0, "lr_milestones": [], "temperature": 0.05, "consistency_weight": 1.0,
                    "eps": 0.3, "text_lr": None, **LOADER},
    # R(2+1)D clips as E2E's: 16 frames at 112, 25 test clips (4 segments of 4 frames).
    sampling_presets={"jigsaw": {"frames": 16, "stride": 1, "crop": 112, "test_clips": 25}},
    default_sampling="jigsaw",
    extra_model_keys=frozenset({"widths", "layers", "d", "heads", "segments"}),
    check=check_jigsaw,
    class_files=phrase_files,
    read_class_side=read_phrases,
    video_files=object_files,
    read_video_side=read_objects,
    check_embeddings=check_text_encoder,
    config_sections=config_sections,
    scorer=alignment_scorer,
)
