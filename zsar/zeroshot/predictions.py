"""Predictions for your own videos and class names (rule predict_videos): a trained run's embeddings
of a folder of videos scored against a class list by one path, each video's top-k classes.

The videos go through the same stages as a target's (listing, index, clip cache, extraction), and
the class list through the same class-side stages (its names embedded, and whatever the run's
method reads: prompts through its text tower, atomic actions of the descriptions), so a second
class list over the same folder reuses the videos' embeddings. Nothing here reads a label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zsar.io import atomic_output, read_json, read_parquet, write_json
from zsar.methods import method as method_spec
from zsar.pipeline.provenance import code_version
from zsar.semantics.embedding import ClassEmbedding, near_pairs, read_class_embedding
from zsar.zeroshot.features import read_features
from zsar.zeroshot.metrics import unit
from zsar.zeroshot.prototypes import read_composition, read_seen_prototypes
from zsar.zeroshot.predict_paths import AUTO, default_path, needs_composition
from zsar.zeroshot.scoring import PATHS, reverse_transfer_scores

def class_scores(path: str, inputs: dict, model: dict, names: list[str], embeddings: np.ndarray) -> np.ndarray:
    """(n_videos, n_classes) scores of `embeddings` against the classes `names` by `path`."""
    spec = method_spec(model["method"])
    vectors = read_class_embedding(inputs["vectors"])
    if path == "e2e":
        if "word_vectors" not in spec.scores:
            raise ValueError(f"path e2e: a {model['method']} model does not embed videos among the class vectors; "
                             f"use {default_path(spec, model.get('model_cfg'))} or a composed path (prototypes)")
        return unit(embeddings) @ unit(vectors.vectors_of(names)).T
    if needs_composition(path):
        settings, composed = read_composition(inputs["prototypes"])
        split = composed[0]  # the class list's one split: all its classes
        order = [split["unseen"].index(name) for name in names]
        if path == "reverse":
            seen_classes, seen_prototypes = read_seen_prototypes(inputs["seen"])
            source = read_class_embedding(inputs["source_vectors"])
            return reverse_transfer_scores(unit(embeddings), seen_prototypes, source.vectors_of(seen_classes),
                                           vectors.vectors_of(names), int(settings["K"]))
        if path not in split["prototypes"]:
            raise ValueError(f"path {path}: the composition has {', '.join(split['prototypes'])}")
        return unit(embeddings) @ unit(split["prototypes"][path][order]).T
    own = spec.scorer(model, {name: inputs[name] for name in inputs if name in ("phrases", "prompts")})
    scorers = own.scorers(names) if own is not None else {}
    if path not in scorers:
        raise ValueError(f"path {path}: a {model['method']} run scores by {', '.join(scorers) or 'none of its own'}")
    return np.asarray(scorers[path](embeddings))


def predict(inputs: dict, csv_path, json_path, *, run: str, videos_name: str, classes_name: str, path: str,
            top_k: int, tau: float, log=print) -> dict:
    """Write each video's top-k classes by `path` (csv_path) and what they came from (json_path).

    `inputs`: features, index (the videos'), vectors (the class list in the run's embedding), model
    (models/{run}/model.json), and what the path reads (phrases, prompts, prototypes, seen,
    source_vectors, overlap vectors). Videos the index lists but the cache could not decode are rows
    with their problem and no class."""
    model = read_json(inputs["model"])
    spec = method_spec(model["method"])
    path = default_path(spec, model.get("model_cfg")) if path == AUTO else path
    if path not in PATHS:
        raise ValueError(f"predict.path {path!r} is not a scoring path; use auto or one of {', '.join(PATHS)}")
    vectors = read_class_embedding(inputs["vectors"])
    names = list(vectors.names)
    videos, embeddings = read_features(inputs["features"])
    scores = class_scores(path, inputs, model, names, embeddings) if len(videos) else np.zeros((0, len(names)))
    k = min(top_k, len(names))
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]

    index = read_parquet(inputs["index"]).set_index("video_id")
    rows = []
    for n, video_id in enumerate(videos["video_id"]):
        row = {"video_id": video_id, "path": index.at[video_id, "path"] if video_id in index.index else "",
               "problem": ""}
        for r, j in enumerate(order[n], 1):
            row[f"class_{r}"], row[f"score_{r}"] = names[j], round(float(scores[n, j]), 6)
        rows.append(row)
    missing = index.loc[~index.index.isin(set(videos["video_id"]))]
    for video_id, entry in missing.iterrows():
        problem = str(entry.get("problem") or "") or f"not decoded: see logs/decode_clips/{videos_name}/"
        rows.append({"video_id": video_id, "path": entry["path"], "problem": problem})
    columns = ["video_id", "path", "problem"] + [f"{kind}_{r}" for r in range(1, k + 1) for kind in ("class", "score")]
    table = pd.DataFrame(rows, columns=columns)
    with atomic_output(csv_path) as tmp:
        table.to_csv(tmp, index=False)

    # Names near a trained class are fine to predict with, but say so: such a label is not zero-shot.
    trained = model["classes"]
    checked_source = read_class_embedding(inputs.get("overlap_source_vectors", inputs["source_vectors"]))
    checked = read_class_embedding(inputs.get("overlap_vectors", inputs["vectors"]))
    near = near_pairs(ClassEmbedding(trained, [[]] * len(trained), checked_source.vectors_of(trained)), checked, tau)
    record = {
        "run": run, "method": model["method"], "videos": videos_name, "classes": classes_name, "path": path,
        "path_description": PATHS[path], "top_k": k, "class_names": names,
        "videos_predicted": int(len(videos)), "videos_not_predicted": int(len(missing)),
        "near_trained_classes": [{"trained": a, "class": b, "distance": round(d, 4)} for a, b, d in near],
        "code": code_version(),
    }
    write_json(json_path, record)
    log(f"{len(videos)} videos of {videos_name} labelled among {len(names)} classes of {classes_name} by {path}; "
        f"{len(missing)} could not be read")
    for a, b, d in near:
        log(f"  '{b}' lies within tau of the trained class '{a}' (distance {d:.3f}): its labels are not zero-shot")
    return record
