"""The methods zsar trains, by name: one plain dict of their torch-free specs (zsar/methods/spec.py).

A method is a package of this one, zsar/methods/<name>/: SPEC in its `__init__.py` (no torch), its
model and training in `model.py`. A method of your own can live in a package of yours, named by its
import path in a run's `method` (docs/adding_a_method.md). The DAG reads the specs when it parses, so
nothing here imports torch. A run's `model` and `train` sections override a spec's defaults; `resolve`
completes them and names any key that does not apply to the method.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil

from zsar.methods.spec import DEVICE_OPTIONS, EXECUTION_ONLY, LOADER_OPTIONS, NEEDS, PRECISIONS, SCORES, Method

__all__ = ["DEVICE_OPTIONS", "EXECUTION_ONLY", "LOADER_OPTIONS", "NEEDS", "REGISTRY", "SAMPLING_PRESETS", "SCORES", "Method", "method", "resolve"]


def _own_methods() -> dict:
    """zsar's own methods: the SPEC of every package beside this module, found on disk. A method
    added to zsar is a new package and changes no module here, so no stage that imports the registry
    (training, extraction, scoring) reruns for it."""
    specs = [importlib.import_module(f"{__name__}.{found.name}").SPEC
             for found in sorted(pkgutil.iter_modules(__path__), key=lambda found: found.name) if found.ispkg]
    return {spec.name: spec for spec in specs}


REGISTRY = _own_methods()

# Every sampling preset by name (names are unique across methods).
SAMPLING_PRESETS = {name: preset for m in REGISTRY.values() for name, preset in m.sampling_presets.items()}


def method(name: str) -> Method:
    """zsar's method of that name, else the SPEC of the Python package `name` (a method of your own)."""
    return REGISTRY[name] if name in REGISTRY else _package_method(name)


@functools.cache
def _package_method(name: str) -> Method:
    hint = (f"use one of {', '.join(REGISTRY)}, or the import path of a package of yours whose SPEC is a "
            "zsar.methods.Method (docs/adding_a_method.md)")
    try:
        package = importlib.import_module(name)
    except ImportError as error:
        if error.name is not None and name.startswith(error.name):  # the package itself is not there
            raise ValueError(f"unknown method {name!r}: no such package; {hint}") from None
        raise
    spec = getattr(package, "SPEC", None)
    if not isinstance(spec, Method):
        raise ValueError(f"method {name!r}: {package.__file__} defines no SPEC (a zsar.methods.Method); {hint}")
    if spec.name != name:
        raise ValueError(f"method {name!r}: its SPEC is named {spec.name!r}; name the method by its package, "
                         f"and the package's SPEC by the same name")
    return dataclasses.replace(spec, package=name)


def resolve(name: str, model: dict, train: dict) -> tuple[dict, dict]:
    """A run's model and train settings: the method's defaults, overridden by the run's own keys."""
    spec = method(name)
    model_keys = set(spec.model_defaults) | spec.extra_model_keys
    train_keys = set(spec.train_defaults) | spec.extra_train_keys | set(LOADER_OPTIONS) | set(DEVICE_OPTIONS)
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
    preset = model.get("preset")
    if spec.model_presets and preset is not None and preset not in spec.model_presets:
        raise ValueError(f"model.preset {preset!r} is not one of method '{name}''s: {', '.join(spec.model_presets)}")
    resolved = {**spec.model_defaults, **arch, **model}, {**spec.train_defaults, **train}
    if resolved[1].get("decode_threads") and resolved[1].get("workers"):
        raise ValueError(f"train.decode_threads ({resolved[1]['decode_threads']}) and train.workers "
                         f"({resolved[1]['workers']}): clips are decoded either in threads of the training "
                         "process or in loader processes; set one of them to 0")
    _check_run_options(resolved[1])
    spec.check(*resolved)
    return resolved


def _check_run_options(train: dict) -> None:
    """The loader's and the device's settings every method takes (LOADER_OPTIONS, DEVICE_OPTIONS)."""
    options = {**LOADER_OPTIONS, **DEVICE_OPTIONS, **train}
    for key in ("nodes", "shard_window", "open_shards"):
        if not isinstance(options[key], int) or isinstance(options[key], bool) or options[key] < 1:
            raise ValueError(f"train.{key} must be a positive integer, not {options[key]!r}")
    if options["precision"] not in PRECISIONS:
        raise ValueError(f"train.precision must be one of {', '.join(PRECISIONS)}, not {options['precision']!r}")
    if options["channels_last"] not in ("auto", True, False):
        raise ValueError(f"train.channels_last must be auto, true or false, not {options['channels_last']!r}")
    if not isinstance(options["deterministic"], bool):
        raise ValueError(f"train.deterministic must be true or false, not {options['deterministic']!r}")
    if options["decode"] not in ("cpu", "device"):
        raise ValueError(f"train.decode must be cpu or device, not {options['decode']!r}")
    if not isinstance(options["compile"], (bool, str)):
        raise ValueError(f"train.compile must be true, false or a torch.compile backend's name (e.g. inductor), "
                         f"not {options['compile']!r}")
