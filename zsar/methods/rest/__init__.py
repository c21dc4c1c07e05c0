"""ResT (Lin et al., CVPR 2022): a cross-modal transformer, scored by composed prototypes.

The spec, without torch; the model and its training are in model.py.
"""

from zsar.methods.spec import LOADER, Method, check_heads

# The papers' sizes, and a tiny one for the synthetic world and the tests.
PRESETS = {
    "rest18": {"depth": 18, "width": 64, "d_model": 768, "layers": 12, "heads": 12},
    "rest34": {"depth": 34, "width": 64, "d_model": 768, "layers": 12, "heads": 12},
    "rest101": {"depth": 101, "width": 64, "d_model": 768, "layers": 12, "heads": 12},
    "tiny": {"depth": 18, "width": 8, "d_model": 32, "layers": 2, "heads": 2},
}


# The frame encoders' depths: a 2D ResNet-18/34/101 per frame, or an R(2+1)D-18/34 over the clip.
DEPTHS = {"resnet2d": (18, 34, 101), "r2plus1d": (18, 34)}


def check_rest(model: dict, train: dict) -> None:
    """ResT's switches that cannot go together (the DAG's parse and ResT's constructor both ask)."""
    temporal, attention = model.get("temporal", "transformer"), model.get("attention", "single")
    if temporal != "transformer" and attention != "cross":
        raise ValueError(f"ResT model.temporal {temporal!r} needs model.attention: cross; in the single "
                         "cross-modal encoder the transformer itself is the temporal model")
    if train.get("cls_weight", 1.0) == 0 and train.get("mtl_weight") == 0:
        raise ValueError("ResT train.cls_weight and train.mtl_weight are both 0: nothing to train")
    if "preset" not in model:  # the constructor's own call checks the switches alone
        return
    shape = {**PRESETS[model["preset"]], **model}
    backbone = model.get("backbone", "resnet2d")
    depths = DEPTHS.get(backbone)
    if depths is not None and shape["depth"] not in depths:
        raise ValueError(f"ResT's {backbone} frame encoder has depth {' or '.join(map(str, depths))}, "
                         f"not {shape['depth']} (model.depth, or its preset {model['preset']}'s)")
    check_heads(shape["d_model"], shape["heads"], "ResT's transformer")


SPEC = Method(
    name="rest",
    paper="Lin et al., CVPR 2022: a cross-modal transformer, scored by composed prototypes",
    needs=("class_tokens",),
    scores=(),
    # preset: PRESETS above (rest18/rest34/rest101/tiny); depth, width, d_model, layers and heads override it.
    model_defaults={"preset": "rest18", "dropout": 0.1},
    model_presets=PRESETS,
    train_defaults={"warmup_epochs": 150, "warmup_lr": 0.01, "warmup_weight_decay": 1e-4, "momentum": 0.9,
                    "epochs": 50, "batch_size": 16, "lr": 1.5e-4, "weight_decay": 0.05, "mask_p": 0.15,
                    "mtl_weight": 0.5, **LOADER},
    # 16/8/4 frames at stride 6 for ResNet-18/34/101, 224 crops; the test-time clip count is not
    # given in the paper, so the E2E protocol's 25 applies.
    sampling_presets={"rest18": {"frames": 16, "stride": 6, "crop": 224, "test_clips": 25},
                      "rest34": {"frames": 8, "stride": 6, "crop": 224, "test_clips": 25},
                      "rest101": {"frames": 4, "stride": 6, "crop": 224, "test_clips": 25}},
    default_sampling="rest18",
    # The ablation switches (model.py): attention (single/cross), temporal (transformer/lstm/gru),
    # backbone (resnet2d/r2plus1d); train.cls_weight (1; 0: MLM only).
    extra_model_keys=frozenset({"depth", "width", "d_model", "layers", "heads", "attention", "temporal",
                                "backbone"}),
    extra_train_keys=frozenset({"cls_weight"}),
    check=check_rest,
)
