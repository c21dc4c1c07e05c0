"""CLIP through open_clip: an architecture by name, the user's weights by path, checked before use.

No CLIP weights can be downloaded by zsar: a run names open_clip's architecture (`arch`, e.g.
ViT-B-16) and a checkpoint file (`checkpoint`) holding that architecture's state_dict, as
open_clip's own `model.state_dict()` writes it (or a training checkpoint of open_clip's, whose
`state_dict` it reads, `module.` prefixes dropped). The file is read weights-only and memory-mapped,
so checking it reads its tensors' shapes, not its 600 MB. zsar adds one architecture of its own,
`zsar-tiny` (a ViT of 2 layers at 32 pixels), for the tests and the demo's stand-in.

A video is embedded as ViFi-CLIP does: each frame through the image tower, the frames' embeddings
averaged (`VideoCLIP`); class texts through the text tower, one prompt or an ensemble of
templates averaged (`encode_prompts`).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

# zsar's own open_clip architectures (model configs in open_clip's format).
CONFIGS = Path(__file__).with_name("clip_configs")
# open_clip's image normalisation for OpenAI's CLIP (the other towers it ships use the same).
MEAN, STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


@functools.cache
def _open_clip():
    import open_clip

    for path in sorted(CONFIGS.glob("*.json")):
        open_clip.add_model_config(path)
    return open_clip


def create(arch: str) -> nn.Module:
    """open_clip's `arch`, initialised at random (the weights come from load_state_dict)."""
    return _open_clip().create_model(arch, pretrained=None)


def read_checkpoint(path) -> dict:
    """The state_dict in `path` (weights-only, memory-mapped), `module.` prefixes dropped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"CLIP checkpoint not found at {str(path)!r}: set the embedding's `checkpoint` in config.yaml to a file "
            "holding an open_clip model's state_dict (e.g. torch.save(model.state_dict(), 'ViT-B-16.pt') for "
            "open_clip.create_model('ViT-B-16', pretrained='openai') on a machine that can download it)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # a file torch cannot read weights-only: pickle with code, or not torch's
        raise ValueError(f"{path}: not a checkpoint torch reads weights-only ({type(error).__name__}: "
                         f"{str(error).splitlines()[0][:200]}); save the model's state_dict with torch.save") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: holds no state_dict (a dict of tensors); save the model's state_dict with torch.save")
    return {key.removeprefix("module."): value for key, value in state.items()}


def check_checkpoint(arch: str, path) -> None:
    """ValueError unless `path` holds a state_dict of open_clip's `arch`, every tensor of its shape:
    names the first tensor that differs and, where it can tell, the architecture the file is of."""
    open_clip = _open_clip()
    if arch not in open_clip.list_models():
        raise ValueError(f"{arch!r} is not an open_clip architecture; e.g. ViT-B-16, ViT-B-32, ViT-L-14, zsar-tiny")
    state = read_checkpoint(path)
    with torch.device("meta"):
        expected = open_clip.create_model(arch, pretrained=None, device="meta").state_dict()
    missing = sorted(set(expected) - set(state))
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if not missing and not wrong:
        return
    first = (f"it lacks {missing[0]}" if missing else
             f"its {wrong[0]} is {tuple(state[wrong[0]].shape)}, not {tuple(expected[wrong[0]].shape)}")
    guess = _architecture_of(state)
    raise ValueError(f"{path} is not a checkpoint of {arch}: {first} ({len(missing)} tensors missing, {len(wrong)} of "
                     f"another shape){f'; it looks like {guess}' if guess else ''}. Set the embedding's arch to the "
                     "checkpoint's architecture, or checkpoint to a file of this one")


def _architecture_of(state: dict) -> str | None:
    """A vision transformer's patch size and width, read off its first convolution."""
    conv = state.get("visual.conv1.weight")
    if conv is None or conv.dim() != 4:
        return None
    return f"a ViT of width {conv.shape[0]} and {conv.shape[-1]}-pixel patches (ViT-B-16: 768 and 16)"


def load_clip(arch: str, path) -> nn.Module:
    """open_clip's `arch` with the weights of `path`, checked (check_checkpoint), in eval mode."""
    check_checkpoint(arch, path)
    model = create(arch)
    model.load_state_dict(read_checkpoint(path))
    return model.eval()


def templates(name: str) -> list[str]:
    """Prompt templates by name: `kinetics` CLIP's authors' 28 for Kinetics-700 (MAXI's matching
    ensemble), `single` the one prompt ViFi-CLIP and MAXI use at inference."""
    path = CONFIGS / "templates.json"
    known = json.loads(path.read_text())
    if name not in known:
        raise ValueError(f"unknown prompt templates {name!r}; use one of {', '.join(known)}")
    return known[name]


@functools.cache
def _tokenizer(arch: str):
    return _open_clip().get_tokenizer(arch)  # builds its vocabulary: ~60 ms a call


def tokenize(arch: str, texts: list[str]) -> torch.Tensor:
    """`texts` as `arch`'s text tower reads them: token ids, (len(texts), context length)."""
    return _tokenizer(arch)(texts)


@functools.lru_cache(maxsize=200_000)
def _tokens_of(arch: str, text: str):
    return tokenize(arch, [text])[0].numpy().astype("int32")


def tokenize_cached(arch: str, texts: tuple[str, ...]):
    """`texts` tokenized as tokenize does, (len(texts), context length) int32 numpy, each text's
    tokens remembered (a training sample's bag of prompts repeats from epoch to epoch)."""
    import numpy as np

    return np.stack([_tokens_of(arch, text) for text in texts])


def encode_prompts(model: nn.Module, arch: str, texts_per_class: list[list[str]], batch_size: int = 256):
    """(n_classes, embed_dim) unit rows on the model's device: each class's texts through the text
    tower, normalised, averaged (a prompt ensemble), normalised again. Gradients flow (ViFi-CLIP
    trains the tower through it); embed under torch.no_grad() otherwise."""
    device = next(model.parameters()).device
    flat = [text for texts in texts_per_class for text in texts]
    tokens = [tokenize(arch, flat[k:k + batch_size]).to(device) for k in range(0, len(flat), batch_size)]
    encoded = torch.cat([F.normalize(model.encode_text(batch).float(), dim=-1) for batch in tokens])
    means = [chunk.mean(dim=0) for chunk in encoded.split([len(texts) for texts in texts_per_class])]
    return F.normalize(torch.stack(means), dim=-1)


class VideoCLIP(nn.Module):
    """A video through CLIP's image tower: each frame embedded, the frames averaged, normalised.

    Takes clips as zsar's loader gives them to every model, (B, 3, T, H, W) in [-1, 1], and a batch
    of videos' clips (B, N, 3, T, H, W) as their mean (what extraction calls `embed`)."""

    def __init__(self, visual: nn.Module, embed_dim: int):
        super().__init__()
        self.visual, self.embed_dim = visual, embed_dim
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 6:
            b, n = x.shape[:2]
            return F.normalize(self.forward(x.flatten(0, 1)).view(b, n, -1).mean(dim=1), dim=-1)
        b, _, t = x.shape[:3]
        frames = x.transpose(1, 2).flatten(0, 1)  # (B * T, 3, H, W)
        size = tuple(getattr(self.visual, "image_size", frames.shape[-2:]))
        if tuple(frames.shape[-2:]) != size:  # crops of another size than the tower's: resized to it
            frames = F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=True)
        frames = ((frames + 1) / 2 - self.mean) / self.std
        embedded = F.normalize(self.visual(frames).float(), dim=-1).view(b, t, -1)
        return F.normalize(embedded.mean(dim=1), dim=-1)

    embed = forward


def embed_class_prompts(manifest: dict, spec: dict, model: nn.Module | None = None):
    """A manifest's classes through the text tower of an embedding of kind clip ({arch,
    checkpoint, templates}): each class name in its own words (no stop word or word-vector
    replacement) in each template, the prompts' embeddings averaged. Its tokens are the prompts."""
    from zsar.data.manifest import class_names
    from zsar.semantics.embedding import ClassEmbedding, normalise_name

    names, style = class_names(manifest), manifest.get("name_style", "plain")
    chosen = templates(spec.get("templates", "single"))
    prompts = [[template.format(" ".join(normalise_name(name, style))) for template in chosen] for name in names]
    model = model or load_clip(spec["arch"], spec["checkpoint"])
    with torch.no_grad():
        vectors = encode_prompts(model, spec["arch"], prompts).cpu().numpy()
    return ClassEmbedding(names, prompts, vectors.astype("float32"))
