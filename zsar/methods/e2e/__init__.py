"""E2E (Brattoli et al., CVPR 2020): a video model regressing the class-name word vector.

The spec, without torch; the model and its training are in model.py.
"""

from zsar.methods.spec import LOADER, Method, check_stages


def check_e2e(model: dict, train: dict) -> None:
    check_stages(model, f"E2E's {model['arch']} backbone")


SPEC = Method(
    name="e2e",
    paper="Brattoli et al., CVPR 2020: a video model regressing the class-name word vector",
    needs=("class_vectors",),
    scores=("word_vectors",),
    paths=("e2e",),
    model_defaults={"arch": "r2plus1d", "widths": [64, 128, 256, 512], "layers": [2, 2, 2, 2], "dropout": 0.5},
    # C3D (Tables 1-2): five stages of 3x3x3 convolutions, fc6 and fc7 of `fc` units.
    # batch_norm: after each convolution (false: the 2015 network, which collapsed from scratch here).
    arch_defaults={"c3d": {"widths": [64, 128, 256, 512, 512], "layers": [1, 1, 2, 2, 2], "fc": 4096,
                           "batch_norm": True}},
    extra_model_keys=frozenset({"fc", "batch_norm"}),
    train_defaults={"epochs": 150, "batch_size": 22, "lr": 1e-3, "weight_decay": 0.0, "lr_milestones": [],
                    **LOADER},
    # 16 frames, 112 crop, 25 test clips.
    sampling_presets={"e2e": {"frames": 16, "stride": 1, "crop": 112, "test_clips": 25}},
    default_sampling="e2e",
    check=check_e2e,
)
