"""JigsawNet (Qian et al., ECCV 2022, "Rethinking Zero-shot Action Recognition: Learning from Latent
Atomic Actions") in plain torch.

A class is described by a group of verb phrases, its atomic actions (split elsewhere; each phrase
has a global atomic id, and an atomic action may belong to several classes). Phrase embeddings come
from a frozen sentence encoder (all-MiniLM-L6-v2, 384-d, computed elsewhere); `project_phrases`
maps them with a learned Linear into the shared d-dim space.

A video clip (B, 3, T, H, W) is cut into m equal segments along time; each goes through an R(2+1)D
backbone, dropout and a Linear to d, giving a group of m segment features (B, m, d). Group
Excitation (GE) relates the segments of one video: post-LN multi-head self-attention
(h heads) with a residual and LayerNorm, then a feed-forward d -> 2d -> d (GELU) with a residual and
LayerNorm. `ge=False` replaces it by the identity (the paper's ablation). Segment features and
projected phrases are L2-normalised.

Group alignment (Eq. 3-4): score(video, class c) = mean over segments s of
max over the phrases p of c of cos(seg_s, phrase_p). The one-to-one ablation ("without group
alignment", Table 3) scores cos(mean of the segments, mean of the class's phrases).
Training loss = CE(scores / temperature) + consistency_weight x the Consistency Loss
(Eq. 9-14), a hinge against a vision memory that keeps one visual feature per atomic action; see
`ConsistencyMemory`.

Under DistributedDataParallel the memory is a buffer, which DDP copies from rank 0 at every
forward: the memory follows rank 0's segments (a rank's own updates last until the next step).

Objects (`objects=True`, off by default): the paper's third input, the objects a detector (BiT)
tags in the video. Here each video comes with an object vector (the unit mean of the sentence
embeddings of its object names, zsar.semantics.objects) and whether it has any. A Linear maps it to d, and
it joins the segments as one more token of Group Excitation (a video without objects masks it out
of the attention). The object feature o is scored like a segment of its own, object(c) = the
alignment of [o] with the class's phrases (0 without objects), and
score(video, c) = segments(c) + max(object(c), 0); the loss adds cross-entropies on the full and
object scores (the latter over videos with objects) to the one on the segment scores.

`embed(clips)` returns the concatenated unit segment features (B, m*d), and the object feature
after them with objects ((B, (m+1)*d), zero without objects), which a generic extraction stage
averages over test clips; scoring reshapes them (zsar.methods.jigsaw.alignment.alignment_scores scores them
without torch).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from zsar.methods.jigsaw import PRESETS
from zsar.models.backbones import create_r2plus1d
from zsar.models.training import Phase, count_correct, validation_embeddings
from zsar.semantics.text_encoder import EncoderTop, hf_to_top, top_config
from zsar.methods.jigsaw.alignment import alignment_scores


ALIGNMENTS = ("group", "one_to_one")


def _check_classes(phrase_class: torch.Tensor, n_classes: int) -> None:
    if phrase_class.numel() and (int(phrase_class.min()) < 0 or int(phrase_class.max()) >= n_classes):
        raise ValueError(f"phrase_class holds ids outside [0, {n_classes})")
    counts = torch.bincount(phrase_class, minlength=n_classes)
    empty = (counts == 0).nonzero().flatten().tolist()
    if empty:
        raise ValueError(f"classes {empty[:10]}{' ...' if len(empty) > 10 else ''} have no phrases")


def group_alignment(segments: torch.Tensor, phrases: torch.Tensor, phrase_class: torch.Tensor,
                    n_classes: int) -> torch.Tensor:
    """Group-to-group scores (B, n_classes): mean over segments of the max cosine over the class's phrases.

    segments (B, m, d), phrases (P, d) (both normalised here, so unit inputs are unchanged),
    phrase_class (P,) long: the class of each phrase; a phrase shared by several classes appears once
    per class. Every class needs at least one phrase. Memory O(B m P + B m C), never (B, m, C, P).
    """
    _check_classes(phrase_class, n_classes)
    segments, phrases = F.normalize(segments, dim=-1), F.normalize(phrases, dim=-1)
    sim = segments @ phrases.T                                             # (B, m, P)
    index = phrase_class.to(sim.device).view(1, 1, -1).expand_as(sim)
    best = sim.new_zeros(*sim.shape[:2], n_classes).scatter_reduce(2, index, sim, reduce="amax",
                                                                   include_self=False)
    return best.mean(dim=1)


def one_to_one(segments: torch.Tensor, phrases: torch.Tensor, phrase_class: torch.Tensor,
               n_classes: int) -> torch.Tensor:
    """The ablation without group alignment (B, n_classes): cos(mean of the unit segments, mean of the
    class's unit phrases)."""
    _check_classes(phrase_class, n_classes)
    segments, phrases = F.normalize(segments, dim=-1), F.normalize(phrases, dim=-1)
    phrase_class = phrase_class.to(phrases.device)
    sums = phrases.new_zeros(n_classes, phrases.shape[1]).index_add(0, phrase_class, phrases)
    prototypes = F.normalize(sums, dim=-1)  # normalising the sum = normalising the mean
    return F.normalize(segments.mean(dim=1), dim=-1) @ prototypes.T


def scores(segments: torch.Tensor, phrases: torch.Tensor, phrase_class: torch.Tensor, n_classes: int,
           alignment: str = "group") -> torch.Tensor:
    """(B, n_classes) scores by `alignment`: "group" (the paper) or "one_to_one" (its ablation)."""
    if alignment == "group":
        return group_alignment(segments, phrases, phrase_class, n_classes)
    if alignment == "one_to_one":
        return one_to_one(segments, phrases, phrase_class, n_classes)
    raise ValueError(f"unknown alignment {alignment!r}; use one of {', '.join(ALIGNMENTS)}")


def split_segments(clips: torch.Tensor, m: int) -> torch.Tensor:
    """(B, 3, T, H, W) -> (B*m, 3, T/m, H, W), video-major: row b*m + s is segment s of video b."""
    b, c, t, h, w = clips.shape
    if t % m:
        raise ValueError(f"clip length T={t} is not divisible by the number of segments m={m}")
    return clips.view(b, c, m, t // m, h, w).transpose(1, 2).reshape(b * m, c, t // m, h, w)


class ConsistencyMemory(nn.Module):
    """The vision memory of the Consistency Loss: one visual feature per atomic action.

    Buffers (so they are saved in the state_dict and resume from a checkpoint): `features`
    (n_atomic, d), all zero until filled, and `alignment` (n_atomic,), the cosine between the stored
    feature and its atomic action's projected phrase when it was stored (-inf while empty).

    All methods take segments (B, m, d), labels (B,) long, phrases (P, d) (projected), phrase_class
    (P,) and phrase_atomic (P,) long (the class and global atomic id of each phrase; a phrase shared
    by several classes appears once per class). Segments and phrases are normalised inside.

    Assignment: segment s of video i (label y) is assigned a(s) = the atomic id of the phrase of class
    y with the highest cosine to seg_s (first one on ties).

    loss = 1/(B m) sum_{i,s} valid(i,s) * max(0, eps - cos(seg_s, M[a(s)]) + cos(seg_s, M[n(s)])),
    n(s) = argmax over the candidates n of cos(seg_s, M[n]); candidates are the filled atomic actions
    not among the predicted class's atomic actions and other than a(s); valid(i,s) = M[a(s)] is filled
    and there is a candidate. Unfilled entries contribute no term (that segment counts as 0 in the
    mean). Differentiable w.r.t. segments only: assignment and memory carry no gradient.
    """

    def __init__(self, n_atomic: int, d: int):
        super().__init__()
        self.n_atomic = n_atomic
        self.register_buffer("features", torch.zeros(n_atomic, d))
        self.register_buffer("alignment", torch.full((n_atomic,), float("-inf")))

    @property
    def filled(self) -> torch.Tensor:
        """(n_atomic,) bool: entries that hold a feature."""
        return self.features.ne(0).any(dim=1)

    @torch.no_grad()
    def assign(self, segments, labels, phrases, phrase_class, phrase_atomic):
        """(atomic id (B, m) long, cosine to its phrase (B, m)) of each segment, within its label's phrases."""
        segments = F.normalize(segments.detach(), dim=-1)
        phrases = F.normalize(phrases.detach(), dim=-1)
        phrase_class, phrase_atomic = phrase_class.to(segments.device), phrase_atomic.to(segments.device)
        if phrase_atomic.numel() and (int(phrase_atomic.min()) < 0 or int(phrase_atomic.max()) >= self.n_atomic):
            raise ValueError(f"phrase_atomic holds ids outside [0, {self.n_atomic})")
        own = phrase_class.view(1, -1) == labels.view(-1, 1)                  # (B, P)
        if not own.any(dim=1).all():
            missing = labels[~own.any(dim=1)].unique().tolist()
            raise ValueError(f"labels {missing} have no phrases")
        sim = (segments @ phrases.T).masked_fill(~own[:, None, :], float("-inf"))  # (B, m, P)
        value, phrase = sim.max(dim=-1)
        return phrase_atomic[phrase], value

    def loss(self, segments, labels, predicted, phrases, phrase_class, phrase_atomic, eps: float = 0.3):
        """The hinge above (a scalar); predicted (B,) long is the argmax of each video's scores."""
        atomic, _ = self.assign(segments, labels, phrases, phrase_class, phrase_atomic)
        segments = F.normalize(segments, dim=-1)
        b, m, _ = segments.shape
        memory = F.normalize(self.features.to(segments.dtype), dim=-1)  # unit already; zero rows stay zero
        filled = self.filled
        phrase_class, phrase_atomic = phrase_class.to(segments.device), phrase_atomic.to(segments.device)
        with torch.no_grad():
            excluded = torch.zeros(b, self.n_atomic, dtype=torch.bool, device=segments.device)
            rows, cols = (phrase_class.view(1, -1) == predicted.view(-1, 1)).nonzero(as_tuple=True)
            excluded[rows, phrase_atomic[cols]] = True                        # the predicted class's atomics
            candidate = (~excluded[:, None, :] & filled.view(1, 1, -1)).expand(b, m, -1).clone()
            candidate.scatter_(2, atomic.unsqueeze(-1), False)                # never a(s) itself
            valid = filled[atomic] & candidate.any(dim=-1)                    # (B, m)
        positive = (segments * memory[atomic]).sum(dim=-1)                    # (B, m)
        negative = (segments @ memory.T).masked_fill(~candidate, float("-inf")).max(dim=-1).values
        hinge = F.relu(eps - positive + negative.masked_fill(~valid, 0.0))
        return torch.where(valid, hinge, torch.zeros_like(hinge)).sum() / (b * m)

    @torch.no_grad()
    def update(self, segments, labels, phrases, phrase_class, phrase_atomic) -> None:
        """Store seg_s in M[a(s)] where cos(seg_s, phrase of a(s)) > the stored alignment.

        Among the segments of the batch assigned the same atomic action, the best aligned wins; exact
        ties go to the first in batch order (video-major, then segment).
        """
        atomic, value = self.assign(segments, labels, phrases, phrase_class, phrase_atomic)
        feats = F.normalize(segments.detach(), dim=-1).flatten(0, 1)
        atomic, value = atomic.flatten(), value.flatten().to(self.alignment.dtype)
        best = torch.full_like(self.alignment, float("-inf")).scatter_reduce(
            0, atomic, value, reduce="amax", include_self=False)
        n = atomic.numel()
        order = torch.arange(n, device=atomic.device).masked_fill(value != best[atomic], n)
        first = torch.full((self.n_atomic,), n, dtype=torch.long, device=atomic.device).scatter_reduce(
            0, atomic, order, reduce="amin")
        replace = (first < n) & (best > self.alignment)
        slots = replace.nonzero().flatten()
        self.features[slots] = feats[first[slots]].to(self.features.dtype)
        self.alignment[slots] = best[slots]


class GroupExcitation(nn.Module):
    """Post-LN self-attention over the m segment features, then a d -> 2d -> d feed-forward."""

    def __init__(self, d: int, heads: int, dropout: float = 0.1):
        super().__init__()
        self.attention = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(d)
        self.feed_forward = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * d, d))
        self.norm2 = nn.LayerNorm(d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, ignore: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, n, d); ignore (B, n) bool marks tokens no other token attends to (absent objects)."""
        attended = self.attention(x, x, x, key_padding_mask=ignore, need_weights=False)[0]
        x = self.norm1(x + self.dropout(attended))
        return self.norm2(x + self.dropout(self.feed_forward(x)))


class JigsawNet(nn.Module):
    def __init__(self, text_dim: int, d: int, heads: int, segments: int, ge: bool = True,
                 widths=(64, 128, 256, 512), layers=(2, 2, 2, 2), dropout: float = 0.1, objects: bool = False, *,
                 n_atomic: int, text_top: dict | None = None):
        super().__init__()
        if d % heads:
            raise ValueError(f"d={d} must be divisible by heads={heads}")
        self.segments = segments
        self.d = d
        self.objects = objects
        self.backbone = create_r2plus1d(widths, layers)
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(self.backbone.out_dim, d)
        self.ge = GroupExcitation(d, heads, dropout) if ge else None
        # The trainable top layers of the text encoder (model.text_layers), rebuilt from their config.
        self.text_top = EncoderTop(text_top) if text_top else None
        self.text_projection = nn.Linear(text_dim, d)
        if objects:
            self.object_projection = nn.Linear(text_dim, d)
        self.memory = ConsistencyMemory(n_atomic, d)
        self.embed_dim = (segments + objects) * d

    def projected_segments(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, m, d): backbone, dropout and Linear per segment, before GE."""
        b = clips.shape[0]
        return self.project(self.dropout(self.backbone(split_segments(clips, self.segments)))).view(b, self.segments, -1)

    def features(self, clips: torch.Tensor, objects: torch.Tensor | None = None,
                 present: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, m, d) unit segment features after GE, and with objects the (B, d) unit object feature
        (zero for a video without objects; None for a model without objects).

        objects (B, text_dim) and present (B,) bool: each video's object vector and whether it has one.
        """
        segments = self.projected_segments(clips)
        if not self.objects:
            return F.normalize(segments if self.ge is None else self.ge(segments), dim=-1), None
        if objects is None or present is None:
            raise ValueError("this JigsawNet was trained with objects: give each video's object vector and presence")
        present = present.to(torch.bool)
        tokens = torch.cat([segments, self.object_projection(objects.to(segments.dtype)).unsqueeze(1)], dim=1)
        if self.ge is not None:
            ignore = torch.cat([present.new_zeros(segments.shape[:2]), ~present.unsqueeze(1)], dim=1)
            tokens = self.ge(tokens, ignore)
        tokens = F.normalize(tokens, dim=-1)
        return tokens[:, :-1], tokens[:, -1] * present.unsqueeze(1).to(tokens.dtype)

    def segment_features(self, clips: torch.Tensor, objects=None, present=None) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, m, d) unit segment features, after GE."""
        return self.features(clips, objects, present)[0]

    def project_phrases(self, phrases) -> torch.Tensor:
        """Phrases -> (P, d) unit: (P, text_dim) sentence-encoder embeddings, or for a model with text
        layers (states (U, T, H), mask (U, T), rows (P,)): the distinct phrases' hidden states
        entering those layers, and the distinct phrase of each of the P rows."""
        if isinstance(phrases, (tuple, list)):
            if self.text_top is None:
                raise ValueError("this JigsawNet has no text layers: give it sentence embeddings of the phrases")
            states, mask, rows = phrases
            phrases = self.text_top(states, mask)[rows]
        elif self.text_top is not None:
            raise ValueError("this JigsawNet trains its text encoder's last layers: give it the phrases' "
                             "hidden states (semantic/{text_encoder}/{dataset}_phrases_top{k}.h5)")
        return F.normalize(self.text_projection(phrases), dim=-1)

    def embed(self, clips: torch.Tensor, objects=None, present=None) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, m*d) the concatenated unit segment features, then the object feature
        with objects ((B, (m+1)*d)); (B, N, 3, T, H, W) -> their mean over the N clips (segments then
        no longer unit; the scoring functions renormalise)."""
        if clips.dim() == 6:
            b, n = clips.shape[:2]
            if objects is not None:
                objects, present = objects.repeat_interleave(n, dim=0), present.repeat_interleave(n, dim=0)
            return self.embed(clips.flatten(0, 1), objects, present).view(b, n, -1).mean(dim=1)
        segments, obj = self.features(clips, objects, present)
        return segments.flatten(1) if obj is None else torch.cat([segments.flatten(1), obj], dim=1)

    forward = embed

    def loss(self, clips, labels, phrase_embeddings, phrase_class, phrase_atomic, objects=None, present=None, *,
             temperature: float = 0.05, alignment: str = "group", consistency_weight: float = 1.0, eps: float = 0.3,
             n_classes: int | None = None, correct: list | None = None) -> torch.Tensor:
        """CE(segment scores / temperature) + consistency_weight x the Consistency Loss (skipped at
        weight 0); with objects, plus CE on the full scores and CE on the object scores alone (over
        the videos with objects). objects (B, text_dim) and present (B,) as `features` takes them.

        phrase_embeddings (P, text_dim), phrase_class and phrase_atomic (P,) long, expanded per class;
        n_classes defaults to phrase_class.max() + 1. In training mode the memory is updated after the
        loss is computed (with the segments of this batch, whatever the weight).
        """
        if n_classes is None:
            n_classes = int(phrase_class.max()) + 1
        segments, obj = self.features(clips, objects, present)
        phrases = self.project_phrases(phrase_embeddings)
        logits = scores(segments, phrases, phrase_class, n_classes, alignment)
        total = F.cross_entropy(logits / temperature, labels)
        if obj is not None:
            object_logits = scores(obj.unsqueeze(1), phrases, phrase_class, n_classes, alignment)
            present = present.to(torch.bool)
            full = logits + F.relu(object_logits) * present.unsqueeze(1).to(logits.dtype)
            total = total + F.cross_entropy(full / temperature, labels)
            if present.any():
                total = total + F.cross_entropy(object_logits[present] / temperature, labels[present])
            logits = full
        if correct is not None:  # how many clips the full scores label right, for the training top-1
            correct.append((logits.detach().argmax(dim=1) == labels).sum())
        if consistency_weight:
            predicted = logits.detach().argmax(dim=1)
            total = total + consistency_weight * self.memory.loss(
                segments, labels, predicted, phrases, phrase_class, phrase_atomic, eps)
        if self.training:
            self.memory.update(segments, labels, phrases, phrase_class, phrase_atomic)
        return total


def create_jigsaw(preset: str, *, n_atomic: int, text_dim: int = 384, text_top: dict | None = None,
                  **overrides) -> JigsawNet:
    if preset not in PRESETS:
        raise ValueError(f"unknown JigsawNet preset {preset!r}; use one of {', '.join(PRESETS)}")
    return JigsawNet(text_dim=text_dim, n_atomic=n_atomic, text_top=text_top, **{**PRESETS[preset], **overrides})


class _Loss(nn.Module):
    """JigsawNet's training loss on a batch, against the phrases of the training classes."""

    def __init__(self, net, phrases, phrase_class, phrase_atomic, n_classes, alignment, cfg):
        super().__init__()
        self.net, self.n_classes, self.alignment, self.cfg = net, n_classes, alignment, cfg
        self.phrases, self.phrase_class, self.phrase_atomic = phrases, phrase_class, phrase_atomic

    def forward(self, clips, labels, objects=None, present=None):
        correct = []
        loss = self.net.loss(clips, labels, self.phrases, self.phrase_class, self.phrase_atomic, objects, present,
                             temperature=self.cfg["temperature"], alignment=self.alignment,
                             consistency_weight=self.cfg["consistency_weight"], eps=self.cfg["eps"],
                             n_classes=self.n_classes, correct=correct).float()
        self.batch_correct = correct[0]
        return loss


def training_phrases(class_names: list[str], phrases: dict) -> dict:
    """The phrases of the training classes, as the loss takes them: embeddings (P, text_dim), the class
    index of each phrase, and its atomic id renumbered 0..n_atomic-1 over these classes.

    `phrases` is the semantic stage's {"class", "phrase", "atomic_id", "embeddings"} (zsar.semantics.atomic), one
    row per (class, phrase); every class needs at least one phrase. With "states" and "mask" (the
    phrases' hidden states below the text layers a run trains, zsar.semantics.text_encoder), also those of the
    distinct phrases ("states", "mask") and the distinct phrase of each row ("state_rows").
    """
    index = {name: k for k, name in enumerate(class_names)}
    rows = [k for k, c in enumerate(phrases["class"]) if c in index]
    missing = sorted(set(class_names) - {phrases["class"][k] for k in rows})
    if missing:
        raise ValueError(f"classes without atomic actions: {missing[:10]}; see semantic/atomic/")
    atomic = np.asarray(phrases["atomic_id"])[rows]
    _, compact = np.unique(atomic, return_inverse=True)
    out = {"embeddings": np.asarray(phrases["embeddings"], dtype=np.float32)[rows],
           "class": np.array([index[phrases["class"][k]] for k in rows]), "atomic": compact,
           "n_atomic": int(compact.max()) + 1}
    if "states" in phrases:
        _, first, out["state_rows"] = np.unique([phrases["phrase"][k] for k in rows], return_index=True,
                                                return_inverse=True)
        distinct = np.asarray(rows)[first]
        out["states"] = np.asarray(phrases["states"], dtype=np.float32)[distinct]
        out["mask"] = np.asarray(phrases["mask"], dtype=bool)[distinct]
    return out


def phrase_input(phrases: dict, device, text_layers: bool):
    """What `project_phrases` takes of `training_phrases`' output, on `device`."""
    if not text_layers:
        return torch.from_numpy(phrases["embeddings"]).to(device)
    return tuple(torch.from_numpy(phrases[k]).to(device) for k in ("states", "mask", "state_rows"))


class Training:
    """The pieces of JigsawNet's training for the shared loop (zsar/models/training.py).

    One phase, all of it trainable; SGD with momentum as the paper (or Adam, for training from
    scratch), tenfold decays at `lr_milestones`. With `model.text_layers`, the text encoder's top
    layers start from its pretrained weights and train too, at `train.text_lr` (default: lr).
    Validation labels a video by the run's alignment (group, or the one-to-one ablation) against the
    training classes' projected phrases.
    """

    def __init__(self, class_names, semantics, model_cfg, train_cfg):
        self.classes, self.model_cfg, self.cfg = class_names, model_cfg, train_cfg
        given = semantics["class_phrases"]
        self.text_layers = model_cfg.get("text_layers", 0)
        if self.text_layers and "states" not in given:
            raise ValueError("model.text_layers needs the phrases' hidden states (zsar.semantics.text_encoder.cut_encoder)")
        self.phrases = training_phrases(class_names, given)
        self.text_top = None
        if self.text_layers:
            if given["text_top"]["layers"] != self.text_layers:
                raise ValueError(f"the phrase states enter the top {given['text_top']['layers']} layers, but "
                                 f"model.text_layers is {self.text_layers}")
            self.pretrained = given["text_weights"]
            self.text_top = top_config(given["text_top"], self.pretrained)
        self.phases = [Phase("train", train_cfg["epochs"], select=True)]

    def _architecture(self) -> dict:
        return {k: v for k, v in self.model_cfg.items() if k not in ("alignment", "text_encoder", "text_layers")}

    def build(self) -> nn.Module:
        net = _create(self._architecture(), self.phrases["n_atomic"], self.phrases["embeddings"].shape[1],
                      self.text_top)
        if self.text_top:
            net.text_top.load_state_dict(hf_to_top(self.pretrained))
        return net

    def loss_module(self, net, phase, device):
        p = self.phrases
        return _Loss(net, phrase_input(p, device, bool(self.text_layers)), torch.from_numpy(p["class"]).to(device),
                     torch.from_numpy(p["atomic"]).to(device), len(self.classes), self.model_cfg["alignment"],
                     self.cfg)

    def optimizer(self, net, phase):
        cfg = self.cfg
        text = [p for name, p in net.named_parameters() if name.startswith("text_top.")]
        rest = [p for name, p in net.named_parameters() if not name.startswith("text_top.")]
        groups = [{"params": rest}] + ([{"params": text, "lr": cfg.get("text_lr") or cfg["lr"]}] if text else [])
        if cfg["optimizer"] == "sgd":
            optimizer = torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weight_decay"])
        else:
            optimizer = torch.optim.Adam(groups, lr=cfg["lr"], weight_decay=cfg["weight_decay"])
        return optimizer, torch.optim.lr_scheduler.MultiStepLR(optimizer, cfg["lr_milestones"], gamma=0.1)

    def correct(self, net, phase, videos, sampling) -> int:
        """How many of `videos` the model labels right: the run's alignment with the classes' phrases."""
        embeddings = validation_embeddings(net, videos, sampling)
        device = next(net.parameters()).device
        with torch.no_grad():
            phrases = net.project_phrases(phrase_input(self.phrases, device, bool(self.text_layers))).float().cpu()
        scores_ = alignment_scores(embeddings, phrases.numpy(), self.phrases["class"], len(self.classes),
                                   self.model_cfg["alignment"], objects=self.model_cfg["objects"])
        return count_correct(videos, self.classes, scores_)

    def final(self, net) -> nn.Module:
        return net

    def saved(self) -> dict:
        return {"model_cfg": self._architecture(), "n_atomic": self.phrases["n_atomic"],
                "text_dim": int(self.phrases["embeddings"].shape[1]), "text_top": self.text_top}


def _create(architecture: dict, n_atomic: int, text_dim: int, text_top: dict | None = None) -> JigsawNet:
    cfg = dict(architecture)
    return create_jigsaw(cfg.pop("preset"), n_atomic=n_atomic, text_dim=text_dim, text_top=text_top, **cfg)


def from_checkpoint(checkpoint: dict) -> nn.Module:
    """The trained model of a checkpoint written by the shared loop, weights not yet loaded."""
    return _create(checkpoint["model_cfg"], checkpoint["n_atomic"], checkpoint["text_dim"], checkpoint.get("text_top"))
