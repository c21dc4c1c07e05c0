"""CLIP as a video model (zero-shot): each frame through CLIP's image tower, the frames averaged
(as ViFi-CLIP embeds a video, Rasheed et al., CVPR 2023), scored against the class prompts through
its text tower, the run's embedding of kind clip. No training: the user's checkpoint as it is.

The spec, without torch; the model is in model.py.
"""

from zsar.methods.spec import LOADER, Method


def clip_of_embedding(model: dict, embedding: dict) -> dict:
    """The CLIP the run's embedding names (its arch and checkpoint): the class prompts' text tower
    and the videos' image tower are one model's."""
    if embedding.get("kind") != "clip":
        raise ValueError(f"method clip embeds videos with a CLIP's image tower and scores them against the "
                         f"class prompts of its text tower: the run's embedding must be of kind clip "
                         f"(embeddings.<name>: {{kind: clip, arch: ViT-B-16, checkpoint: <file>}}), not "
                         f"{embedding.get('kind')!r}")
    return {"arch": embedding["arch"], "checkpoint": embedding["checkpoint"]}


SPEC = Method(
    name="clip",
    paper="CLIP (Radford et al., ICML 2021) zero-shot on videos: frames through the image tower, averaged",
    needs=("class_vectors",),
    scores=("word_vectors",),
    paths=("e2e",),
    model_defaults={},
    extra_model_keys=frozenset({"arch", "checkpoint"}),  # filled in from the run's embedding
    train_defaults={"epochs": 0, "batch_size": 16, **LOADER},
    # Single frames spread over the video (the papers' sparse sampling), 224 crops of frames cached at 256.
    sampling_presets={"clip": {"frames": 1, "stride": 1, "crop": 224, "test_clips": 8, "short_side": 256}},
    default_sampling="clip",
    from_embedding=clip_of_embedding,
)
