"""The methods zsar trains and their papers' settings, without torch (the DAG reads these).

A run's `model` and `train` sections override the defaults; `resolve` completes them and names
any key that does not apply to the method.
"""

from __future__ import annotations

METHODS = ("e2e", "rest")

# The papers' settings; a run's `model` and `train` sections override any of them.
MODEL_DEFAULTS = {
    "e2e": {"arch": "r2plus1d", "widths": [64, 128, 256, 512], "layers": [2, 2, 2, 2], "dropout": 0.5},
    # preset: zsar/rest.py PRESETS (rest18/rest34/rest101/tiny); depth, width, d_model, layers and
    # heads override the preset.
    "rest": {"preset": "rest18", "dropout": 0.1},
}
TRAIN_DEFAULTS = {
    "e2e": {"epochs": 150, "batch_size": 22, "lr": 1e-3, "weight_decay": 0.0, "lr_milestones": [],
            "workers": 0, "processes": 1},
    "rest": {"warmup_epochs": 150, "warmup_lr": 0.01, "warmup_weight_decay": 1e-4, "momentum": 0.9,
             "epochs": 50, "batch_size": 16, "lr": 1.5e-4, "weight_decay": 0.05, "mask_p": 0.15,
             "mtl_weight": 0.5, "workers": 0, "processes": 1},
}
REST_MODEL_KEYS = {"preset", "depth", "width", "d_model", "layers", "heads", "dropout"}


def resolve(method: str, model: dict, train: dict) -> tuple[dict, dict]:
    """A run's model and train settings: the method's defaults, overridden by the run's own keys."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    model_keys = REST_MODEL_KEYS if method == "rest" else set(MODEL_DEFAULTS[method])
    for section, given, known in (("model", model, model_keys), ("train", train, set(TRAIN_DEFAULTS[method]))):
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValueError(f"{section} keys {unknown} do not apply to method '{method}'; "
                             f"it takes {', '.join(sorted(known))}")
    return {**MODEL_DEFAULTS[method], **model}, {**TRAIN_DEFAULTS[method], **train}
