"""The last layers of a sentence encoder, trained with a video model (JigsawNet's `model.text_layers`).

The paper fine-tunes the top of its text encoder with the video model. The layers below stay
frozen, so their output for each phrase is computed once: `cut_encoder` runs the phrases through the
frozen bottom of the encoder (all-MiniLM-L6-v2 or a BERT folder, both BERT encoders) and returns the
hidden states entering the top `layers` layers, with the attention mask and those layers' weights.
The artefact (semantic/{text_encoder}/{dataset}_phrases_top{k}.h5, `write_phrase_states`) holds no
code: the top layers are rebuilt in plain torch (`EncoderTop`) from the weights and a few numbers.

`EncoderTop` is a BERT layer stack (post-LayerNorm self-attention and a GELU feed-forward, as the
pretrained layers were trained) followed by the sentence encoder's mean pooling over the tokens and
L2 normalisation; with the pretrained weights it gives the sentence embeddings of the frozen
encoder (tested), and training moves it from there.
"""

from __future__ import annotations

import json

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# A BERT layer's parameters, as Hugging Face names them, and as EncoderTop's layer names them.
_ATTENTION = ("attention.self.query", "attention.self.key", "attention.self.value")


def mean_pooled(model) -> bool:
    """Whether a SentenceTransformer pools by the mean over tokens (EncoderTop's pooling): its Pooling
    module says so (`pooling_mode`, or `pooling_mode_mean_tokens` in older sentence-transformers)."""
    pooling = [m for m in model if type(m).__name__ == "Pooling"]
    if not pooling:
        return False
    mode = getattr(pooling[0], "pooling_mode", None)
    return mode == "mean" if mode is not None else getattr(pooling[0], "pooling_mode_mean_tokens", False) is True


def cut_encoder(phrases: list[str], spec: dict, layers: int, model=None) -> dict:
    """The frozen part of the sentence encoder applied to `phrases`, and the weights of the part above.

    Returns {"states": (P, T, H) float32, "mask": (P, T) bool, "config": {layers, heads, eps},
    "weights": {name: array}} for `layers` >= 1 top layers. Raises ValueError when the encoder is not
    a BERT encoder with mean pooling, or has fewer layers.
    """
    from zsar.semantics.embedding import SENTENCE_KINDS, load_sentence_model

    if spec["kind"] not in SENTENCE_KINDS:
        raise ValueError(f"model.text_layers needs a sentence encoder ({', '.join(SENTENCE_KINDS)}), "
                         f"not kind {spec['kind']!r}")
    model = model or load_sentence_model(spec)
    transformer = model[0]
    bert = transformer.auto_model
    config = bert.config
    if not hasattr(bert, "encoder") or getattr(config, "hidden_act", None) != "gelu" or not mean_pooled(model):
        raise ValueError("model.text_layers supports BERT encoders with GELU layers and mean pooling "
                         "(all-MiniLM-L6-v2, BERT-base); this encoder is not one: set model.text_layers to 0")
    total = config.num_hidden_layers
    if not 1 <= layers <= total:
        raise ValueError(f"model.text_layers is {layers}, but the text encoder has {total} layers; "
                         f"choose 0 (frozen) to {total}")
    distinct = list(dict.fromkeys(phrases))
    tokens = transformer.tokenizer(distinct, padding=True, truncation=True,
                                   max_length=getattr(model, "max_seq_length", None) or 256, return_tensors="pt")
    with torch.no_grad():  # in chunks: every layer's states of all phrases at once would not be small
        states = np.concatenate([
            bert(**{k: v[lo:lo + 256] for k, v in tokens.items()}, output_hidden_states=True)
            .hidden_states[total - layers].float().numpy()
            for lo in range(0, len(distinct), 256)])
    mask = tokens["attention_mask"].bool().numpy()
    row = {p: k for k, p in enumerate(distinct)}
    rows = [row[p] for p in phrases]
    weights = {}
    for k, layer in enumerate(bert.encoder.layer[total - layers:]):
        for name, value in layer.state_dict().items():
            weights[f"{k}.{name}"] = value.float().numpy()
    return {"states": states[rows], "mask": mask[rows],
            "config": {"layers": layers, "heads": config.num_attention_heads, "eps": config.layer_norm_eps},
            "weights": weights}


def write_phrase_states(path, table, cut: dict, embedding_name: str, spec: dict) -> None:
    """semantic/{embedding}/{dataset}_phrases_top{k}.h5: class and phrase per row (as the phrases
    file), the states and mask, and the top layers' config and weights."""
    import h5py

    from zsar.io import atomic_output

    strings = h5py.string_dtype()
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        for column in ("class", "phrase"):
            f.create_dataset(column, data=np.array(table[column].tolist(), dtype=object), dtype=strings)
        f.create_dataset("states", data=cut["states"], compression="gzip")
        f.create_dataset("mask", data=cut["mask"])
        weights = f.create_group("weights")
        for name, value in cut["weights"].items():
            weights.create_dataset(name, data=value)
        f.attrs["config"] = json.dumps(cut["config"], sort_keys=True)
        f.attrs["embedding"] = embedding_name
        f.attrs["spec"] = json.dumps(spec, sort_keys=True)


def read_phrase_states(path, phrases: dict | None = None) -> dict:
    """{"class", "phrase", "states", "mask", "config", "weights"} of a states file. With `phrases`
    (read_phrase_embeddings of the same dataset) checks that the rows are the same phrases."""
    from zsar.io import open_h5

    with open_h5(path) as f:
        out = {"class": f["class"].asstr()[:].tolist(), "phrase": f["phrase"].asstr()[:].tolist(),
               "states": f["states"][:], "mask": f["mask"][:], "config": json.loads(f.attrs["config"]),
               "weights": {name: f["weights"][name][:] for name in f["weights"]}}
    if phrases is not None and (out["class"], out["phrase"]) != (phrases["class"], phrases["phrase"]):
        raise ValueError(f"{path} holds other phrases than the phrases file beside it: delete it and run "
                         "snakemake again")
    return out


def top_config(config: dict, weights: dict) -> dict:
    """EncoderTop's whole config: a states file's (layers, heads, eps) with the sizes its weights have."""
    intermediate, hidden = np.shape(weights["0.intermediate.dense.weight"])
    return {**config, "hidden": int(hidden), "intermediate": int(intermediate)}


def hf_to_top(weights: dict) -> dict:
    """A BERT layer stack's weights ({"k.attention.self.query.weight": ...}) as EncoderTop's state_dict."""
    out = {}
    layers = sorted({int(name.split(".")[0]) for name in weights})
    for k in layers:
        w = {name[len(f"{k}."):]: torch.as_tensor(v) for name, v in weights.items() if name.startswith(f"{k}.")}
        p = f"layers.{k}."
        out[p + "attention.in_proj_weight"] = torch.cat([w[f"{a}.weight"] for a in _ATTENTION])
        out[p + "attention.in_proj_bias"] = torch.cat([w[f"{a}.bias"] for a in _ATTENTION])
        out[p + "attention.out_proj.weight"] = w["attention.output.dense.weight"]
        out[p + "attention.out_proj.bias"] = w["attention.output.dense.bias"]
        for ours, theirs in (("norm1", "attention.output.LayerNorm"), ("norm2", "output.LayerNorm"),
                             ("up", "intermediate.dense"), ("down", "output.dense")):
            out[p + f"{ours}.weight"] = w[f"{theirs}.weight"]
            out[p + f"{ours}.bias"] = w[f"{theirs}.bias"]
    return out


class BertLayer(nn.Module):
    """Post-LayerNorm self-attention, then Linear -> GELU -> Linear, each with a residual."""

    def __init__(self, hidden: int, heads: int, intermediate: int, eps: float):
        super().__init__()
        self.attention = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.norm1 = nn.LayerNorm(hidden, eps=eps)
        self.up = nn.Linear(hidden, intermediate)
        self.down = nn.Linear(intermediate, hidden)
        self.norm2 = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, ignore):
        x = self.norm1(x + self.attention(x, x, x, key_padding_mask=ignore, need_weights=False)[0])
        return self.norm2(x + self.down(F.gelu(self.up(x))))


class EncoderTop(nn.Module):
    """The top layers of a sentence encoder, mean pooling and L2 normalisation: (states (P, T, H),
    mask (P, T) bool) -> (P, H) unit sentence embeddings. `config`: layers, heads, eps, hidden,
    intermediate (what a checkpoint saves to rebuild it)."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = dict(config)
        self.layers = nn.ModuleList(BertLayer(config["hidden"], config["heads"], config["intermediate"], config["eps"])
                                    for _ in range(config["layers"]))

    @classmethod
    def from_weights(cls, config: dict, weights: dict) -> EncoderTop:
        """Pretrained: from a states file's config and weights."""
        top = cls(top_config(config, weights))
        top.load_state_dict(hf_to_top(weights))
        return top

    def forward(self, states, mask):
        mask = mask.to(torch.bool)
        x = states
        for layer in self.layers:
            x = layer(x, ~mask)
        weights = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1)
