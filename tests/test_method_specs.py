"""The method registry is the one source of a run's settings: the schema's enums and keys follow it."""

import pytest
import yaml

from conftest import REPO
from zsar.methods import DEVICE_OPTIONS, LOADER_OPTIONS, REGISTRY, SAMPLING_PRESETS, Method, resolve

RUN = yaml.safe_load((REPO / "config.schema.yaml").read_text())["properties"]["runs"]["additionalProperties"]


def test_names_that_the_registry_owns_are_checked_by_the_registry_not_by_a_copy_in_the_schema():
    """Methods, presets and model/train keys: a method of one's own brings its own, so the schema keeps
    no list of them; the run's resolution refuses what its method does not take (tests/test_plan.py)."""
    assert "enum" not in RUN["properties"]["method"]
    assert "enum" not in RUN["properties"]["sampling"]["properties"]["preset"]
    assert "enum" not in RUN["properties"]["model"]["properties"]["preset"]
    assert RUN["properties"]["model"]["additionalProperties"] and RUN["properties"]["train"]["additionalProperties"]
    for name in [*REGISTRY, *SAMPLING_PRESETS]:  # the schema's descriptions still name zsar's own
        assert name in RUN["properties"]["method"]["description"] + \
            RUN["properties"]["sampling"]["properties"]["preset"]["description"]


def test_the_schema_types_exactly_the_model_and_train_keys_zsars_methods_take():
    model_keys = {key for spec in REGISTRY.values()
                  for key in [*spec.model_defaults, *spec.extra_model_keys,
                              *[k for arch in spec.arch_defaults.values() for k in arch]]}
    train_keys = {key for spec in REGISTRY.values() for key in [*spec.train_defaults, *spec.extra_train_keys]}
    train_keys |= {*LOADER_OPTIONS, *DEVICE_OPTIONS}  # every method takes them
    assert set(RUN["properties"]["model"]["properties"]) == model_keys
    assert set(RUN["properties"]["train"]["properties"]) == train_keys


def test_a_preset_of_another_method_is_refused_when_the_run_resolves():
    with pytest.raises(ValueError, match="model.preset 'r2plus1d18' is not one of method 'rest''s: rest18, rest34"):
        resolve("rest", {"preset": "r2plus1d18"}, {})
    assert resolve("jigsaw", {"preset": "r2plus1d18"}, {})[0]["preset"] == "r2plus1d18"


def test_a_spec_with_an_unknown_need_or_score_is_refused():
    with pytest.raises(ValueError, match=r"method 'toy': needs \['class_vector'\] are not among"):
        Method(name="toy", paper="", needs=("class_vector",), scores=(), model_defaults={}, train_defaults={},
               sampling_presets={}, default_sampling="")
