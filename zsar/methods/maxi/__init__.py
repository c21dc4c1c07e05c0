"""MAXI (Lin et al., ICCV 2023): CLIP fine-tuned on the source's videos without their labels. Match
each video to the action dictionary (the kept source class names) by CLIP with a prompt ensemble,
expand a text bag per video (zsar.semantics.bags), keep the most confident share p per name, and
fine-tune both towers with a multiple-instance contrastive loss over n_bag texts of each bag a step.
Scored as ViFi-CLIP: the target's class prompts through the fine-tuned text tower.

The spec, without torch; the model is in model.py.
"""

import os

from zsar.methods.clip import clip_of_embedding
from zsar.methods.spec import Method
from zsar.methods.vificlip import FINE_TUNING, VIEW, prompt_scorer

SOURCES = ("phrases", "captions")


def check_maxi(model: dict, train: dict) -> None:
    if model["match"] not in ("clip", "labels"):
        raise ValueError(f"model.match must be clip (MAXI's matching) or labels (a diagnostic: the labels MAXI never "
                         f"reads), not {model['match']!r}")
    if not isinstance(model["match_embedding"], str):
        raise ValueError("model.match_embedding must name the embedding (of kind clip, the same arch and checkpoint as "
                         "the run's, templates: kinetics) that matches the source videos to the class names")
    bags = model["bags"]
    if not isinstance(bags, (list, tuple)) or not set(bags) <= set(SOURCES):
        raise ValueError(f"model.bags must be a list of the language sources {', '.join(SOURCES)} (or []), not {bags!r}")
    if not (isinstance(model["p"], (int, float)) and 0 < model["p"] <= 1):
        raise ValueError(f"model.p (the share of each name's videos kept) must be in (0, 1], not {model['p']!r}")
    if not (isinstance(model["n_bag"], int) and model["n_bag"] >= 1):
        raise ValueError(f"model.n_bag (texts drawn from a bag a step) must be a positive integer, not {model['n_bag']!r}")
    prompt = model["prompt"]
    if not isinstance(prompt, str) or "{action}" not in prompt or "{text}" not in prompt:
        raise ValueError(f"model.prompt must hold {{action}} (the matched name) and {{text}} (a bag's text), "
                         f"e.g. 'a photo of {{action}}, {{text}}.', not {prompt!r}")


def check_match_embedding(model: dict, embeddings: dict) -> None:
    """The matching CLIP is the run's: the same arch and checkpoint (its templates may differ)."""
    name = model["match_embedding"]
    spec = embeddings.get(name)
    if spec is None or spec.get("kind") != "clip":
        raise ValueError(f"model.match_embedding {name!r} must name an embedding of kind clip in config.yaml "
                         f"(e.g. {{kind: clip, arch: {model['arch']}, checkpoint: ..., templates: kinetics}})")
    if spec["arch"] != model["arch"] or os.path.expanduser(spec["checkpoint"]) != model["checkpoint"]:
        raise ValueError(f"model.match_embedding {name!r} is {spec['arch']} at {spec['checkpoint']}, but the run's "
                         f"embedding is {model['arch']} at {model['checkpoint']}: MAXI matches with the CLIP it fine-tunes")


def video_files(model: dict, dataset: str) -> dict:
    """The matches of every video, and the parsed language sources the run's bags read."""
    return {"matches": f"matches/{model['match_embedding']}/{dataset}.h5",
            **{source: f"semantic/bags/{dataset}_{source}.tsv" for source in model["bags"]}}


def read_bags(files: dict):
    from zsar.semantics.bags import read_text_bags

    return read_text_bags(files)


SPEC = Method(
    name="maxi",
    paper="MAXI (Lin et al., ICCV 2023): CLIP fine-tuned on unlabelled videos with text bags",
    needs=("class_tokens",),  # the kept classes' single prompts, for the (logged) validation
    scores=("prompts",),
    paths=("prompts",),
    # match_embedding: the embedding that matches videos to names (kind clip, templates kinetics);
    # bags: the language sources besides the matched name; verb_forms: lemma and gerund forms of every
    # verb phrase; p: the share of each name's videos kept (the supplement's Table 10: 0.9); n_bag:
    # texts drawn from a bag a step (not given in the supplement); prompt: "<text1> + <text2>", the
    # first part fixed per video (the supplement's "a photo of <action>"); match: clip, or labels for a
    # diagnostic upper bound of the matching (each video its own class: no longer unsupervised).
    model_defaults={"match": "clip", "match_embedding": None, "bags": list(SOURCES), "verb_forms": True, "p": 0.9, "n_bag": 16,
                    "prompt": "a photo of {action}, {text}."},
    extra_model_keys=frozenset({"arch", "checkpoint"}),  # filled in from the run's embedding
    # ViFi-CLIP's full fine-tuning, as the supplement says (zsar's stand-ins for it, vificlip's), and view.
    train_defaults=FINE_TUNING,
    sampling_presets={"maxi": VIEW},
    default_sampling="maxi",
    check=check_maxi,
    check_embeddings=check_match_embedding,
    video_files=video_files,
    read_video_side=read_bags,
    test_reads_video_side=False,
    config_sections=lambda model: ("bags",) if model["bags"] else (),
    from_embedding=clip_of_embedding,
    scorer=prompt_scorer,
)
