"""MAXI's text bags (Lin et al., ICCV 2023): what a source video is trained against instead of its label.

Each source video is matched to the action dictionary (the kept source class names) by CLIP with a
prompt ensemble (matches/{embedding}/{dataset}.h5, zsar.methods.maxi). Its bag then holds:

- the matched name itself;
- `phrases`: phrases a language model wrote for the matched name (the user's TSV of class and
  phrase; none is generated here), with the verb phrases and verbs spaCy finds in them;
- `captions`: the verb phrases and verbs spaCy finds in the video's frame captions (the user's TSV of
  video_id and caption, e.g. BLIP's on 8 frames);
- with `verb_forms`, every verb phrase and verb also in its lemma and gerund forms.

The language sources are parsed once per dataset (semantic/bags/{dataset}_phrases.tsv and
_captions.tsv: key, text, kind) by JigsawNet's verb-phrase parse (zsar.semantics.atomic), so a run's
switches only choose among parsed texts. The most confident share `p` of the videos matched to each
name trains; the rest are left out. Torch-free apart from the tokenizer a training sample calls.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

PARSED_COLUMNS = ["key", "text", "kind"]
# What a parsed text is: the phrase as the language model wrote it, a verb phrase, its verb.
KINDS = ("phrase", "verb_phrase", "verb")
SOURCES = ("phrases", "captions")


def read_pairs(path, what: str, first: str, second: str) -> list[tuple[str, str]]:
    """(key, text) rows of a user's two-column TSV (no header needed; one `first<TAB>second` a line,
    lines starting with # skipped). ValueError naming the file and line of a malformed row."""
    rows, header = [], (first, second)
    with open(path, newline="", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n\r")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise ValueError(f"{path}, line {number}: expected {first}<TAB>{second} ({what}), got {line[:120]!r}")
            if not rows and (parts[0].strip().lower(), parts[1].strip().lower()) == header:
                continue  # a header, before the first row
            rows.append((parts[0].strip(), parts[1].strip()))
    if not rows:
        raise ValueError(f"{path}: no rows; give one {first}<TAB>{second} a line ({what})")
    return rows


def parse_texts(rows: Iterable[tuple[str, str]], parser, keep_text: bool, batch_size: int = 512) -> pd.DataFrame:
    """The bag texts of each (key, text): with `keep_text` the text itself (lower case, kind phrase),
    then its verb phrases (lemmas, as JigsawNet's atomic actions) and their verbs. A text without a
    verb gives no verb phrase (a caption "a ball on a floor" adds nothing). One row per distinct
    (key, text), in order."""
    from zsar.semantics.atomic import _is_phrase_verb, verb_phrases

    rows = list(rows)
    out, seen = [], set()

    def add(key, text, kind):
        if text and (key, text) not in seen:
            seen.add((key, text))
            out.append((key, text, kind))

    for (key, text), doc in zip(rows, parser.pipe((text for _, text in rows), batch_size=batch_size)):
        if keep_text:
            add(key, " ".join(text.lower().strip(" .!").split()), "phrase")
        if any(_is_phrase_verb(token) for token in doc):
            for phrase in verb_phrases(doc):
                add(key, phrase, "verb_phrase")
                add(key, phrase.split()[0], "verb")
    return pd.DataFrame(out, columns=PARSED_COLUMNS)


def write_parsed(path, table: pd.DataFrame) -> None:
    from zsar.io import atomic_output

    with atomic_output(path) as tmp:
        table.to_csv(tmp, sep="\t", index=False, quoting=csv.QUOTE_NONE, escapechar="\\")


def read_parsed(path) -> dict[str, list[tuple[str, str]]]:
    """key -> [(text, kind)] of a parsed bag file."""
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE, escapechar="\\")
    out: dict[str, list[tuple[str, str]]] = {}
    for key, text, kind in table[PARSED_COLUMNS].itertuples(index=False):
        out.setdefault(key, []).append((text, kind))
    return out


def with_forms(texts: list[tuple[str, str]]) -> list[str]:
    """The texts of (text, kind) pairs and, for each verb phrase and verb (what the parse found to be a
    verb: a name or phrase may start with a noun, "ball falling"), its lemma and gerund forms ("spread
    cream": "spreading cream"; "clap": "clapping"), each text once, in order."""
    from zsar.semantics.embedding import verb_forms

    out = dict.fromkeys(text for text, _ in texts)
    for text, kind in texts:
        words = text.split()
        forms = verb_forms(words) if kind in ("verb_phrase", "verb") else None
        if forms:
            for form in forms:
                out.setdefault(" ".join([form, *words[1:]]))
    return list(out)


def keep_most_confident(matched: np.ndarray, confidence: np.ndarray, p: float) -> np.ndarray:
    """A mask of the videos kept: for each matched name, the ceil(p x n) of its n videos matched most
    confidently (ties by position)."""
    keep = np.zeros(len(matched), dtype=bool)
    for name in np.unique(matched):
        members = np.flatnonzero(matched == name)
        order = members[np.argsort(-confidence[members], kind="stable")]
        keep[order[:math.ceil(p * len(members))]] = True
    return keep


class TextBags:
    """The video side (zsar.methods.spec.VideoSide) of MAXI's training: a source video's bag of prompts.

    Read from the files MAXI's spec names: the matches (every video's cosine with every source
    class's prompt ensemble) and the parsed language sources. `select` (called by training with the
    kept classes and the training videos) matches each video to the kept class names, keeps the most
    confident share p per name, and builds the bags; `of` gives a video's bag as token ids, padded
    (`bag`, (max bag, context) int32) and its size (`bag_size`), for the loss to draw n_bag of them.
    """

    def __init__(self, video_ids: list[str], labels: list[str], classes: list[str], words: list[str],
                 scores: np.ndarray, phrases: dict | None = None, captions: dict | None = None):
        self.video_ids, self.labels = list(video_ids), list(labels)
        self.classes, self.words = list(classes), list(words)
        self.scores = np.asarray(scores, dtype=np.float32)
        self.phrases, self.captions = phrases, captions
        self.bags: dict[str, list[str]] = {}
        self.matched: dict[str, str] = {}
        self.words_of: dict[str, str] = {}
        self.settings: dict = {}
        self.report: dict = {}
        self.max_bag = 0

    @property
    def digest(self) -> str:
        h = hashlib.sha256(json.dumps([self.video_ids, self.classes, self.words, self.phrases, self.captions],
                                      sort_keys=True).encode())
        h.update(np.ascontiguousarray(self.scores).tobytes())
        return h.hexdigest()

    def check(self, video_ids, what: str, required: bool = True) -> str:
        video_ids = list(video_ids)
        row = set(self.video_ids)
        matched = sum(v in row for v in video_ids)
        if required and video_ids and not matched:
            raise ValueError(f"none of the {len(video_ids)} {what} is in the matches file (first: {video_ids[0]!r}; "
                             f"the file's first: {self.video_ids[:1]}): rerun match_videos")
        return f"{matched} of {len(video_ids)} {what} were matched to the action dictionary"

    def select(self, classes: list[str], video_ids, model: dict) -> tuple[list[str], str]:
        """The training videos MAXI keeps, their bags built: each video matched to the nearest of
        `classes` (the kept source classes, the action dictionary) by its prompt-ensemble cosine, the
        most confident share model.p of each name's videos kept (confidence: the softmax over the
        dictionary at CLIP's logit scale 100)."""
        columns = [self.classes.index(c) for c in classes if c in self.classes]
        if len(columns) != len(classes):
            missing = [c for c in classes if c not in self.classes]
            raise ValueError(f"the matches lack the classes {missing[:5]}: rerun match_videos for this dataset")
        row = {v: k for k, v in enumerate(self.video_ids)}
        ids = [v for v in video_ids if v in row]
        scores = self.scores[[row[v] for v in ids]][:, columns]
        logits = 100.0 * scores
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        best = scores.argmax(axis=1)
        matched = np.asarray(classes, dtype=object)[best] if len(ids) else np.zeros(0, dtype=object)
        confidence = probs.max(axis=1) if len(ids) else np.zeros(0)
        if model.get("match", "clip") == "labels":  # the diagnostic upper bound: every video its own class
            labels = dict(zip(self.video_ids, self.labels))
            matched = np.asarray([labels[v] for v in ids], dtype=object)
            confidence = np.ones(len(ids))
        keep = keep_most_confident(matched, confidence, model["p"]) if len(ids) else np.zeros(0, bool)
        self.words_of = words = {c: self.words[self.classes.index(c)] for c in classes}
        sources = set(model["bags"])
        if "captions" in sources and ids and not any(v in (self.captions or {}) for v in ids):
            first = next(iter(self.captions or {}), None)
            raise ValueError(f"none of the {len(ids)} training videos has captions (first: {ids[0]!r}; the captions "
                             f"file's first: {first!r}): its first column must be the video_id of index/<dataset>.parquet")
        self.settings = {"prompt": model["prompt"], "arch": model["arch"]}
        self.bags, self.matched = {}, {}
        for video, name, kept in zip(ids, matched, keep):
            if not kept:
                continue
            texts = [(words[name], "name")]
            if "phrases" in sources:
                texts += (self.phrases or {}).get(name, [])
            if "captions" in sources:
                texts += (self.captions or {}).get(video, [])
            texts = with_forms(texts) if model["verb_forms"] else list(dict.fromkeys(text for text, _ in texts))
            self.bags[video], self.matched[video] = texts, name
        labels = dict(zip(self.video_ids, self.labels))
        right = sum(labels.get(v) == name for v, name in zip(ids, matched))
        kept_right = sum(labels.get(v) == self.matched[v] for v in self.bags)
        sizes = [len(b) for b in self.bags.values()] or [0]
        self.max_bag = max(sizes)
        self.report = {"videos": len(ids), "kept": len(self.bags), "matched_right": right,
                       "captioned": sum(v in (self.captions or {}) for v in self.bags),
                       "named": len({n for n in self.matched.values() if n in (self.phrases or {})}),
                       "kept_right": kept_right, "mean_bag": float(np.mean(sizes)), "max_bag": self.max_bag}
        return list(self.bags), self.line()

    def line(self) -> str:
        r = self.report
        names = pd.Series(list(self.matched.values())).value_counts()
        top = ", ".join(f"{name} {count}" for name, count in names.head(3).items())
        return (f"MAXI: {r['videos']} videos matched to {len(names)} names (most: {top}); "
                f"{r['matched_right'] / max(1, r['videos']):.1%} matched their (unread) label; kept {r['kept']} "
                f"(right {r['kept_right'] / max(1, r['kept']):.1%}); bags of {r['mean_bag']:.1f} texts on average, "
                f"{r['max_bag']} at most; {r['captioned']} kept videos have captions, {r['named']} names phrases")

    def prompts(self, video_id: str) -> list[str]:
        """The prompts of a kept video's bag: "<prefix of its matched name> <text>"."""
        words = self.words_of[self.matched[video_id]]
        return [self.settings["prompt"].format(action=words, text=text) for text in self.bags[video_id]]

    def of(self, video_id: str) -> dict:
        from zsar.models.clip import tokenize_cached

        prompts = self.prompts(video_id)
        tokens = tokenize_cached(self.settings["arch"], tuple(prompts))
        bag = np.zeros((self.max_bag, tokens.shape[1]), dtype=np.int32)
        bag[:len(prompts)] = tokens
        return {"bag": bag, "bag_size": len(prompts)}

    def table(self) -> pd.DataFrame:
        """One row a kept video: its matched name, its (unread) label and its bag, for the record."""
        labels = dict(zip(self.video_ids, self.labels))
        return pd.DataFrame([(v, self.matched[v], labels.get(v, ""), " | ".join(texts)) for v, texts in self.bags.items()],
                            columns=["video_id", "matched", "label", "bag"])


def read_text_bags(files: dict) -> TextBags:
    """The TextBags of MAXI's files: `matches` and, where the run reads them, `phrases`, `captions`."""
    from zsar.io import open_h5

    with open_h5(files["matches"]) as f:
        bags = TextBags(f["video_id"].asstr()[:].tolist(), f["label"].asstr()[:].tolist(),
                        f["classes"].asstr()[:].tolist(), f["words"].asstr()[:].tolist(), f["scores"][:])
    bags.phrases = read_parsed(files["phrases"]) if "phrases" in files else None
    bags.captions = read_parsed(files["captions"]) if "captions" in files else None
    return bags


def write_matches(path, video_ids, labels, classes, words, scores: np.ndarray, model_sha256: str) -> None:
    """matches/{embedding}/{dataset}[/{shard}].h5: every video's cosine with every class's prompts."""
    import h5py

    from zsar.io import atomic_output

    strings = h5py.string_dtype()
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        for key, values in (("video_id", video_ids), ("label", labels), ("classes", classes), ("words", words)):
            f.create_dataset(key, data=np.array(list(values), dtype=object), dtype=strings)
        f.create_dataset("scores", data=np.asarray(scores, dtype=np.float16))
        f.attrs["model_sha256"] = model_sha256


def merge_matches(paths, out_path) -> int:
    from zsar.io import open_h5

    parts = {"video_id": [], "label": [], "scores": []}
    for path in paths:
        with open_h5(path) as f:
            parts["video_id"] += f["video_id"].asstr()[:].tolist()
            parts["label"] += f["label"].asstr()[:].tolist()
            parts["scores"].append(f["scores"][:])
            classes, words = f["classes"].asstr()[:].tolist(), f["words"].asstr()[:].tolist()
            checksum = f.attrs["model_sha256"]
    write_matches(out_path, parts["video_id"], parts["label"], classes, words, np.concatenate(parts["scores"]), checksum)
    return len(parts["video_id"])


def parsed_path(dataset: str, source: str) -> str:
    return str(Path("semantic") / "bags" / f"{dataset}_{source}.tsv")
