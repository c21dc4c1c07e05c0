"""Which scoring path labels a prediction's videos: asked when the DAG is built (its inputs follow),
so without the scoring stack's imports."""

from __future__ import annotations

AUTO = "auto"  # the method's own path: its scorer's, else the class word vectors, else composed prototypes
# The composed prototypes' variants (zsar.zeroshot.prototypes.VARIANTS) and the reverse transfer: every
# method has them, from its seen prototypes.
COMPOSED = ("prototypes", "prototypes_no_constraint", "prototypes_I", "prototypes_II_III", "prototypes_capacity",
            "reverse")


def default_path(spec, model_cfg: dict | None = None) -> str:
    """The path a method labels videos by when not told: its own scorer's (JigsawNet's alignment, or
    its one-to-one ablation; ViFi-CLIP's and MAXI's prompts), else the class vectors (E2E, zero-shot
    CLIP), else the composed prototypes (ResT)."""
    if "alignment" in spec.scores:
        alignment = (model_cfg or {}).get("alignment", "group")
        return "alignment" if alignment == "group" else f"alignment_{alignment}"
    own = [p for p in spec.scores if p != "word_vectors"]
    if own:
        return own[0]
    return "e2e" if "word_vectors" in spec.scores else "prototypes"


def needs_composition(path: str) -> bool:
    """Paths read from the composed prototypes of the class list (its single split of all classes)."""
    return path in COMPOSED


def paths_of(spec, model_cfg: dict | None = None) -> list[str]:
    """The paths a run of `spec` can label videos by: its own scorer's, the class vectors for a model
    that embeds videos among them, and the composed ones."""
    own = [default_path(spec, model_cfg)] if any(p != "word_vectors" for p in spec.scores) else []
    return own + (["e2e"] if "word_vectors" in spec.scores else []) + list(COMPOSED)
