"""ViFi-CLIP (Rasheed et al., CVPR 2023): CLIP fine-tuned on the source's labelled videos, both
towers, with cross-entropy over the kept classes' prompts; a video is its frames' image-tower
embeddings averaged, a class its prompt through the fine-tuned text tower.

The spec, without torch; the model is in model.py.
"""

from zsar.methods.clip import clip_of_embedding
from zsar.methods.spec import LOADER, Method



def prompt_scorer(model_info: dict, inputs: dict):
    """The nearest class prompt through the model's trained text tower (extract_prompts' file)."""
    from zsar.methods.vificlip.prompts import PromptScorer

    return PromptScorer(inputs["prompts"])


# Not ViFi-CLIP's published recipe, whose numbers are not in zsar's papers: set them from it. MAXI
# follows ViFi-CLIP's full fine-tuning, and takes these too. augment: the augmentations MAXI's
# supplement names (multi-scale crop, colour jitter, grey scale; the loader flips), at strengths of
# zsar's choosing, as the supplement gives none (augment.py); null: crop and flip only.
AUGMENT = {"scales": [1.0, 0.875, 0.75, 0.66], "jitter": 0.8, "grey": 0.2}
FINE_TUNING = {"epochs": 10, "batch_size": 32, "lr": 2e-6, "weight_decay": 0.001, "augment": AUGMENT, **LOADER}
# 8 frames 8 apart (about 2.5 s at 25 fps) for training and one such view at test, 224 crops of frames
# cached at 256 (a cache of their own where the dataset's is at E2E's 128).
VIEW = {"frames": 8, "stride": 8, "crop": 224, "test_clips": 1, "short_side": 256}


SPEC = Method(
    name="vificlip",
    paper="ViFi-CLIP (Rasheed et al., CVPR 2023): CLIP's two towers fine-tuned on labelled videos",
    needs=("class_tokens",),  # the kept classes' prompts (the tokens of an embedding of kind clip)
    scores=("prompts",),
    paths=("prompts",),
    model_defaults={},
    extra_model_keys=frozenset({"arch", "checkpoint"}),  # filled in from the run's embedding
    train_defaults=FINE_TUNING,
    sampling_presets={"vificlip": VIEW},
    default_sampling="vificlip",
    from_embedding=clip_of_embedding,
    scorer=prompt_scorer,
)
