"""ResT (Lin et al., CVPR 2022) in plain torch: a 2D ResNet per frame, a cross-modal transformer.

Input tokens are [CLS, frame_1..frame_T, word_1..word_W]. The modality mask lets CLS and frame
tokens attend only to CLS and frame tokens, and each word token attend to CLS, all frame tokens
and the word tokens on its left (and itself). The video embedding is LN(z_L^0), the CLS output
after a final LayerNorm; the classifier is a 1-hidden-layer MLP on it. Training adds a masked
token loss: every word token is replaced by [MASK] with probability 0.15 (at least one per name)
and predicted from its output. Loss = CE + 0.5 x MTL.

Because CLS never attends to word tokens, the embedding of a video does not depend on what
stands in the word slots: at test time a single [MASK] fills them.

Training has two phases. Warm-up trains the ResNet frame encoder alone, with a linear classifier
on its mean frame feature (SGD, momentum 0.9, lr 0.01, wd 1e-4); joint training then trains the
whole cross-modal model on CE + 0.5 x masked token loss (AdamW, lr 1.5e-4, wd 0.05). Each phase
has its own cosine schedule, stepped every epoch; only joint-training epochs may be kept.
Validation labels a video by the warm-up's frame classifier, then by ResT's classifier. At test
time videos are scored by prototypes composed from seen ones (zsar/zeroshot/prototypes.py).

Switches for the paper's ablations (config keys; the defaults are the paper's model):
- model.attention: single (above) or cross: a video encoder over [CLS, frames] and a text decoder
  whose causally masked words cross-attend to its outputs (Table 3(c)).
- model.temporal: transformer, or lstm / gru as the video encoder (attention cross; Table 3(a)).
- model.backbone: resnet2d (depth 18/34/101), or r2plus1d (depth 18/34): an R(2+1)D over the clip,
  one token per remaining time step (Table 4(a)).
- train.cls_weight 0: the masked token loss alone; validation then labels a video by the masked
  token head's likelihood of each class name (ResT.word_scores). train.mtl_weight 0: the CE alone
  (Table 3(b)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zsar.methods.rest import PRESETS, check_rest
from zsar.models.backbones import create_r2plus1d
from zsar.models.training import Phase, count_correct, validation_embeddings

# (block, layers per stage) of the ResNets of He et al. 2016
RESNETS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 101: ("bottleneck", (3, 4, 23, 3))}



class BasicBlock2d(nn.Module):
    expansion = 1

    def __init__(self, in_ch: int, width: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width))
        self.shortcut = _shortcut(in_ch, width, stride)

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class Bottleneck2d(nn.Module):
    expansion = 4

    def __init__(self, in_ch: int, width: int, stride: int = 1):
        super().__init__()
        out = width * 4
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out))
        self.shortcut = _shortcut(in_ch, out, stride)

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))


class ResNet2d(nn.Module):
    """(N, 3, H, W) -> (N, out_dim) pooled features."""

    def __init__(self, depth: int = 18, width: int = 64):
        super().__init__()
        if depth not in RESNETS:
            raise ValueError(f"ResNet depth {depth} not available; use one of {sorted(RESNETS)}")
        kind, layers = RESNETS[depth]
        block = BasicBlock2d if kind == "basic" else Bottleneck2d
        self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        blocks, in_ch = [], width
        for stage, depth_ in enumerate(layers):
            for b in range(depth_):
                blocks.append(block(in_ch, width * 2**stage, stride=2 if stage > 0 and b == 0 else 1))
                in_ch = width * 2**stage * block.expansion
        self.blocks = nn.Sequential(*blocks)
        self.out_dim = in_ch

    def forward(self, x):
        return self.blocks(self.stem(x)).mean(dim=(2, 3))


def modality_mask(n_frames: int, n_words: int) -> torch.Tensor:
    """(L, L) bool, True where query token i may attend to key token j; L = 1 + n_frames + n_words."""
    visual = 1 + n_frames
    size = visual + n_words
    allowed = torch.zeros(size, size, dtype=torch.bool)
    allowed[:visual, :visual] = True                      # CLS and frames see CLS and frames only
    allowed[visual:, :visual] = True                      # words see CLS and every frame
    allowed[visual:, visual:] = torch.ones(n_words, n_words).tril().bool()  # ... and words on their left
    return allowed


def mask_words(words: torch.Tensor, pad_id: int, mask_id: int, p: float, generator=None):
    """Replace each non-pad word with [MASK] with probability p, at least one per row.

    Returns (masked words, bool tensor of the masked positions).
    """
    real = words != pad_id
    chosen = (torch.rand(words.shape, generator=generator, device=words.device) < p) & real
    none = ~chosen.any(dim=1)
    if none.any():  # force one masked word per row that drew none
        scores = torch.rand(words.shape, generator=generator, device=words.device).masked_fill(~real, -1.0)
        pick = scores.argmax(dim=1)
        chosen[none, pick[none]] = True
    return words.masked_fill(chosen, mask_id), chosen


# Frame encoders: a 2D ResNet per frame (the paper's), or an R(2+1)D over the clip whose feature map,
# pooled over space, gives one token per remaining time step (Table 4(a)'s 3D encoder).
BACKBONES = ("resnet2d", "r2plus1d")
# Attention schemes (Table 3(c)): one cross-modal encoder over [CLS, frames, words] with the modality
# mask, or a video encoder and a text decoder whose words cross-attend to the video's outputs.
ATTENTIONS = ("single", "cross")
# The temporal model over frame tokens (Table 3(a)); LSTM and GRU need the separate video encoder.
TEMPORALS = ("transformer", "lstm", "gru")
# Blocks per stage of the R(2+1)D frame encoder, by depth (R(2+1)D-18 and -34).
R2PLUS1D_LAYERS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}


def frame_tokens(frames: nn.Module, clips: torch.Tensor) -> torch.Tensor:
    """clips (B, 3, T, H, W) -> the frame encoder's features (B, T', C): T' = T for the 2D ResNet."""
    if isinstance(frames, ResNet2d):
        b, _, t = clips.shape[:3]
        return frames(clips.transpose(1, 2).flatten(0, 1)).view(b, t, -1)
    return frames.tokens(clips)


def _encoder_layer(d_model: int, heads: int, dropout: float) -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout, activation="gelu",
                                      batch_first=True, norm_first=False)  # post-LN, as ResT


def _float_mask(blocked: torch.Tensor) -> torch.Tensor:
    # A float mask, so that the attention and padding masks combine by addition.
    return torch.zeros(blocked.shape, device=blocked.device).masked_fill(blocked, float("-inf"))


class ResT(nn.Module):
    def __init__(self, *, vocab_size: int, n_classes: int, depth: int = 18, width: int = 64, d_model: int = 768,
                 layers: int = 12, heads: int = 12, dropout: float = 0.1, max_frames: int = 32, max_words: int = 16,
                 backbone: str = "resnet2d", attention: str = "single", temporal: str = "transformer"):
        super().__init__()
        for key, value, allowed in (("backbone", backbone, BACKBONES), ("attention", attention, ATTENTIONS),
                                    ("temporal", temporal, TEMPORALS)):
            if value not in allowed:
                raise ValueError(f"ResT model.{key} {value!r} is not one of {', '.join(allowed)}")
        check_rest({"attention": attention, "temporal": temporal}, {})
        if backbone == "r2plus1d":
            if depth not in R2PLUS1D_LAYERS:
                raise ValueError(f"an R(2+1)D frame encoder has depth {' or '.join(map(str, R2PLUS1D_LAYERS))}, "
                                 f"not {depth}")
            self.frames = create_r2plus1d([width * 2**i for i in range(4)], R2PLUS1D_LAYERS[depth])
        else:
            self.frames = ResNet2d(depth, width)
        self.backbone, self.attention, self.temporal = backbone, attention, temporal
        self.project = nn.Linear(self.frames.out_dim, d_model)
        self.pad_id, self.mask_id = vocab_size, vocab_size + 1
        self.word_embedding = nn.Embedding(vocab_size + 2, d_model, padding_idx=self.pad_id)
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
        self.frame_position = nn.Parameter(torch.zeros(1, max_frames, d_model))
        self.word_position = nn.Parameter(torch.zeros(1, max_words, d_model))
        nn.init.normal_(self.frame_position, std=0.02)
        nn.init.normal_(self.word_position, std=0.02)
        if attention == "single":
            self.transformer = nn.TransformerEncoder(_encoder_layer(d_model, heads, dropout), layers,
                                                     enable_nested_tensor=False)
        else:
            if temporal == "transformer":
                self.video_encoder = nn.TransformerEncoder(_encoder_layer(d_model, heads, dropout), layers,
                                                           enable_nested_tensor=False)
            else:
                rnn = nn.LSTM if temporal == "lstm" else nn.GRU
                self.video_encoder = rnn(d_model, d_model, num_layers=layers, batch_first=True,
                                         dropout=dropout if layers > 1 else 0.0)
            decoder = nn.TransformerDecoderLayer(d_model, heads, 4 * d_model, dropout, activation="gelu",
                                                 batch_first=True, norm_first=False)
            self.text_decoder = nn.TransformerDecoder(decoder, layers)
        self.norm = nn.LayerNorm(d_model)
        self.classifier = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, n_classes))
        self.word_head = nn.Linear(d_model, vocab_size)
        self.embed_dim = d_model

    def frame_tokens(self, clips: torch.Tensor) -> torch.Tensor:
        return frame_tokens(self.frames, clips)

    def forward(self, clips: torch.Tensor, words: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """clips (B, 3, T, H, W), words (B, W) ids -> (video embedding (B, d), word outputs (B, W, d)).

        The video embedding is LN(z_L^0), the CLS output; with an LSTM or GRU video encoder, which has no
        CLS, LN of the mean of its outputs.
        """
        frames = self.frame_tokens(clips)
        b, t, n_words, device = frames.shape[0], frames.shape[1], words.shape[1], clips.device
        frames = self.project(frames) + self.frame_position[:, :t]
        text = self.word_embedding(words) + self.word_position[:, :n_words]
        word_padding = _float_mask(words == self.pad_id)
        if self.attention == "single":
            tokens = torch.cat([self.cls.expand(b, -1, -1), frames, text], dim=1)
            padding = torch.cat([torch.zeros(b, 1 + t, device=device), word_padding], 1)
            attn = _float_mask(~modality_mask(t, n_words).to(device))
            z = self.transformer(tokens, mask=attn, src_key_padding_mask=padding)
            return self.norm(z[:, 0]), z[:, 1 + t:]
        if self.temporal == "transformer":
            video = self.video_encoder(torch.cat([self.cls.expand(b, -1, -1), frames], dim=1))
            embedding = video[:, 0]
        else:
            video = self.video_encoder(frames)[0]
            embedding = video.mean(dim=1)
        causal = _float_mask(~torch.ones(n_words, n_words, dtype=torch.bool, device=device).tril())
        z = self.text_decoder(text, video, tgt_mask=causal, tgt_key_padding_mask=word_padding)
        return self.norm(embedding), z

    def embed(self, clips: torch.Tensor) -> torch.Tensor:
        """The video embedding LN(z_L^0) with input [CLS, frames, MASK].

        clips (B, 3, T, H, W) -> (B, d); (B, N, 3, T, H, W) -> the mean over the N clips, (B, d).
        """
        if clips.dim() == 6:
            b, n = clips.shape[:2]
            return self.embed(clips.flatten(0, 1)).view(b, n, -1).mean(dim=1)
        mask = torch.full((clips.shape[0], 1), self.mask_id, dtype=torch.long, device=clips.device)
        return self.forward(clips, mask)[0]

    def word_scores(self, clips: torch.Tensor, class_words: torch.Tensor) -> torch.Tensor:
        """How likely each class's name is for each video, by the masked token head alone.

        Every word slot holds [MASK]; class c scores the mean over its words of log p(word i of c at
        slot i). One forward pass per clip, whatever the class count (the masked slots do not depend on
        the class). clips (B, [N,] 3, T, H, W), class_words (C, W) ids padded with pad_id -> (B, C).
        """
        if clips.dim() == 6:
            b, n = clips.shape[:2]
            return self.word_scores(clips.flatten(0, 1), class_words).view(b, n, -1).mean(dim=1)
        slots = class_words.shape[1]
        masked = torch.full((clips.shape[0], slots), self.mask_id, dtype=torch.long, device=clips.device)
        log_p = F.log_softmax(self.word_head(self.forward(clips, masked)[1]).float(), dim=-1)  # (B, W, V)
        real = class_words != self.pad_id
        ids = class_words.masked_fill(~real, 0)
        picked = log_p[:, torch.arange(slots, device=clips.device)[None, :], ids]  # (B, C, W)
        return (picked * real).sum(dim=-1) / real.sum(dim=-1)

    def loss(self, clips, words, labels, *, p: float = 0.15, mtl_weight: float = 0.5, cls_weight: float = 1.0,
             generator=None, correct: list | None = None):
        """cls_weight (ResT: 1) x CE of the classifier on LN(z_L^0) + mtl_weight (ResT: 0.5) x the masked
        token loss. A weight of 0 keeps its term in the graph at zero: every parameter gets a gradient, as
        DistributedDataParallel requires."""
        masked, chosen = mask_words(words, self.pad_id, self.mask_id, p, generator)
        video, word_out = self.forward(clips, masked)
        logits = self.classifier(video)
        if correct is not None:  # the classifier's labels of these clips, for the training top-1
            correct.append((logits.detach().argmax(dim=1) == labels).sum())
        ce = F.cross_entropy(logits, labels)
        mtl = F.cross_entropy(self.word_head(word_out[chosen]), words[chosen])
        return cls_weight * ce + mtl_weight * mtl


def create_rest(preset: str, *, vocab_size: int, n_classes: int, **overrides) -> ResT:
    if preset not in PRESETS:
        raise ValueError(f"unknown ResT preset {preset!r}; use one of {', '.join(PRESETS)}")
    return ResT(vocab_size=vocab_size, n_classes=n_classes, **{**PRESETS[preset], **overrides})



def class_word_ids(tokens: list[list[str]]) -> tuple[list[str], list[list[int]]]:
    """ResT's word tokens: the vocabulary of the class names' words and each class's word ids.

    `tokens` are the semantic stage's tokens per class (words, or phrases for sentence embeddings,
    split here into words); a word repeated within one class is kept once.
    """
    words = [list(dict.fromkeys(w for token in class_tokens for w in token.split())) for class_tokens in tokens]
    vocabulary = sorted({w for ws in words for w in ws})
    index = {w: i for i, w in enumerate(vocabulary)}
    return vocabulary, [[index[w] for w in ws] for ws in words]


class _FrameClassifier(nn.Module):
    """ResT's warm-up: the frame encoder and a linear classifier on the mean frame feature."""

    def __init__(self, frames, probe):
        super().__init__()
        self.frames, self.probe = frames, probe  # not the whole model: DDP wants every parameter used

    def logits(self, clips):
        if clips.dim() == 6:
            b, n = clips.shape[:2]
            return self.logits(clips.flatten(0, 1)).view(b, n, -1).mean(dim=1)
        return self.probe(frame_tokens(self.frames, clips).mean(dim=1))

    def forward(self, clips, labels):
        logits = self.logits(clips).float()
        self.batch_correct = (logits.detach().argmax(dim=1) == labels).sum()
        return F.cross_entropy(logits, labels)

    embed = logits  # validation reads class scores through embed_videos

    @property
    def embed_dim(self):
        return self.probe.out_features


class _WordScores(nn.Module):
    """Validation of a model trained without the classifier (cls_weight 0): class scores from the
    masked token head (ResT.word_scores), read through embed like the frame classifier's."""

    def __init__(self, rest, words):
        super().__init__()
        self.rest, self.words = rest, words

    def embed(self, clips):
        return self.rest.word_scores(clips, self.words)

    @property
    def embed_dim(self):
        return len(self.words)


class _Loss(nn.Module):
    def __init__(self, rest, words, mask_p, mtl_weight, cls_weight):
        super().__init__()
        self.rest, self.words, self.mask_p = rest, words, mask_p
        self.mtl_weight, self.cls_weight = mtl_weight, cls_weight

    def forward(self, clips, labels):
        correct = [] if self.cls_weight else None  # an untrained classifier labels nothing
        loss = self.rest.loss(clips, self.words[labels], labels, p=self.mask_p, mtl_weight=self.mtl_weight,
                              cls_weight=self.cls_weight, correct=correct)
        self.batch_correct = correct[0] if correct else None
        return loss


class Training:
    """The pieces of ResT's training for the shared loop (zsar/models/training.py)."""

    def __init__(self, class_names, semantics, model_cfg, train_cfg):
        self.vocabulary, word_ids = class_word_ids(semantics["class_tokens"])
        self.classes, self.model_cfg, self.cfg = class_names, model_cfg, train_cfg
        self.max_words = max(len(w) for w in word_ids)
        pad = len(self.vocabulary)
        self.words = torch.tensor([w + [pad] * (self.max_words - len(w)) for w in word_ids])
        # Table 3(b): cls_weight 0 trains with the masked token loss only (mtl_weight 0: the CE only).
        self.cls_weight = train_cfg.get("cls_weight", 1.0)  # resolve has refused it with mtl_weight 0 too
        self.phases = [Phase("warmup", train_cfg["warmup_epochs"], select=False),
                       Phase("joint", train_cfg["epochs"], select=True)]

    def build(self) -> nn.Module:
        rest = _create(self.model_cfg, len(self.vocabulary), len(self.classes), self.max_words)
        return nn.ModuleDict({"rest": rest, "probe": nn.Linear(rest.frames.out_dim, len(self.classes))})

    def loss_module(self, net, phase, device):
        if phase.name == "warmup":
            return _FrameClassifier(net["rest"].frames, net["probe"])
        return _Loss(net["rest"], self.words.to(device), self.cfg["mask_p"], self.cfg["mtl_weight"], self.cls_weight)

    def optimizer(self, net, phase):
        if phase.name == "warmup":
            params = [*net["rest"].frames.parameters(), *net["probe"].parameters()]
            optimizer = torch.optim.SGD(params, lr=self.cfg["warmup_lr"], momentum=self.cfg["momentum"],
                                        weight_decay=self.cfg["warmup_weight_decay"])
        else:
            optimizer = torch.optim.AdamW(net["rest"].parameters(), lr=self.cfg["lr"],
                                          weight_decay=self.cfg["weight_decay"])
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(phase.epochs, 1))

    def correct(self, net, phase, videos, sampling) -> int:
        """How many of `videos` the model labels right: the warm-up's frame classifier, then ResT's
        classifier, or its masked token head when the classifier is not trained (cls_weight 0)."""
        if phase.name == "warmup":
            scores = validation_embeddings(_FrameClassifier(net["rest"].frames, net["probe"]), videos, sampling)
        elif self.cls_weight == 0:
            words = self.words.to(next(net.parameters()).device)
            scores = validation_embeddings(_WordScores(net["rest"], words), videos, sampling)
        else:
            with torch.no_grad():
                embeddings = torch.from_numpy(validation_embeddings(net["rest"], videos, sampling))
                device = next(net.parameters()).device
                scores = net["rest"].classifier(embeddings.to(device)).float().cpu().numpy()
        return count_correct(videos, self.classes, scores)

    def final(self, net) -> nn.Module:
        return net["rest"]

    def saved(self) -> dict:
        return {"model_cfg": self.model_cfg, "vocabulary": self.vocabulary, "max_words": self.max_words}


def _create(model_cfg: dict, vocab_size: int, n_classes: int, max_words: int) -> ResT:
    cfg = dict(model_cfg)
    return create_rest(cfg.pop("preset"), vocab_size=vocab_size, n_classes=n_classes, max_words=max_words, **cfg)


def from_checkpoint(checkpoint: dict) -> nn.Module:
    """The trained model of a checkpoint written by the shared loop, weights not yet loaded."""
    return _create(checkpoint["model_cfg"], len(checkpoint["vocabulary"]), len(checkpoint["classes"]),
                   checkpoint["max_words"])
