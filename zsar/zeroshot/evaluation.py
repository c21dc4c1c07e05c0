"""The score stage: a run's video embeddings scored on every split of a protocol, by each path (the
method's own scorer, composed prototypes and their ablations, reverse transfer), into the results
JSON and the confusion matrices."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from zsar.io import read_json, read_parquet, write_json
from zsar.methods import method as method_spec
from zsar.pipeline.provenance import code_version
from zsar.semantics.embedding import ClassEmbedding, read_class_embedding
from zsar.zeroshot.features import read_features
from zsar.zeroshot.prototypes import read_composition, read_seen_prototypes
from zsar.zeroshot.scoring import PATHS, ProtocolError, check_unseen, score_split, summarise, write_confusions
from zsar.zeroshot.splits import SplitsError, read_splits

__all__ = ["ProtocolError", "SplitsError", "StaleInput", "score_splits"]


class StaleInput(ValueError):
    """An input was built for other inputs than those scored with it."""


def _log(line: str) -> None:
    print(line, file=sys.stderr)


def split_videos(splits: dict, k: int, videos: pd.DataFrame, embeddings: np.ndarray):
    """The videos split k scores: all the target's (its unseen classes' are picked by score_split), or
    with a protocol of official test lists (0/full) those of split k only."""
    if "videos" not in splits:
        return videos, embeddings
    chosen = videos["video_id"].isin(set(splits["videos"][k])).to_numpy()
    return videos[chosen].reset_index(drop=True), embeddings[chosen]


def read_checked_classes(inputs: dict, target: str, tau: float):
    """The target's and the source's class vectors and models/{run}/model.json (the weights are not needed),
    after refusing a target class within tau of a trained one (ProtocolError), in the embedding the
    overlap was filtered in (runs.<run>.overlap_embedding, else the run's)."""
    vectors, source = read_class_embedding(inputs["vectors"]), read_class_embedding(inputs["source_vectors"])
    model = read_json(inputs["model"])
    trained = model["classes"]
    checked_source = read_class_embedding(inputs["overlap_source_vectors"]) if "overlap_vectors" in inputs else source
    checked = read_class_embedding(inputs["overlap_vectors"]) if "overlap_vectors" in inputs else vectors
    check_unseen(ClassEmbedding(trained, [[]] * len(trained), checked_source.vectors_of(trained)), checked, tau, target)
    return vectors, source, model


def read_composed_for(inputs: dict, splits: dict) -> tuple[dict, list[dict]]:
    """The composed prototypes' settings and splits (read_composition), refused when composed for other splits."""
    composition, composed = read_composition(inputs["prototypes"])
    if [split["unseen"] for split in composed] != splits["splits"]:
        raise StaleInput(f"{inputs['prototypes']} was composed for other splits than {inputs['splits']}; "
                         "delete it and run snakemake again")
    return composition, composed


def score_splits(inputs: dict, json_path, confusion_path, *, run: str, target: str, tau: float, config: dict,
                 log=_log) -> None:
    """Score results/{run}/{target}_{protocol}: `inputs` are the paths the plan names (zsar.pipeline.plan
    score_inputs). Raises ProtocolError when a target class lies within tau of a trained class."""
    vectors, source, model = read_checked_classes(inputs, target, tau)
    method = model["method"]
    spec = method_spec(method)

    videos, embeddings = read_features(inputs["features"])
    index = read_parquet(inputs["index"])
    splits = read_splits(inputs["splits"], vectors.names)
    seen_classes, seen_prototypes = read_seen_prototypes(inputs["seen"])
    composition, composed = read_composed_for(inputs, splits)
    own = spec.scorer(model, {name: inputs[name] for name in spec.score_files(run, target)})

    per_split, confusions = [], {}
    all_videos, all_embeddings = videos, embeddings
    for k, (unseen, split) in enumerate(zip(splits["splits"], composed)):
        videos, embeddings = split_videos(splits, k, all_videos, all_embeddings)
        references = split["prototypes"]
        if "word_vectors" in spec.scores:  # the model embeds videos in the class word-vector space
            references = {"e2e": vectors.vectors_of(unseen), **references}
        reverse = {"seen_prototypes": seen_prototypes, "seen_vectors": source.vectors_of(seen_classes),
                   "unseen_vectors": vectors.vectors_of(unseen), "K": int(composition["K"])}
        result = score_split(videos, embeddings, unseen, references, reverse,
                             own.scorers(unseen) if own is not None else None)
        for path in PATHS:
            if path in result:
                confusions[f"split_{k}/{path}"] = result[path].pop("confusion")
        result["relaxed_prototypes"] = split["relaxed"]
        if own is not None:
            result.update(own.split_stats(videos, embeddings, unseen))
        per_split.append(result)
        log(f"split {k}{f' ({len(videos)} test videos)' if 'videos' in splits else ''} top-1: "
            + ", ".join(f"{path} {result[path]['top1']:.3f}" for path in PATHS if path in result))

    write_confusions(confusion_path, splits["splits"], confusions)

    n_unseen = len(splits["splits"][0])
    not_scored = index.loc[~index["video_id"].isin(all_videos["video_id"]), ["video_id", "path", "problem"]].fillna("")
    # The index opened these but decoding failed; decode_clips' log has the reason.
    not_scored.loc[not_scored["problem"] == "", "problem"] = f"not decoded: see logs/decode_clips/{config.get('caches', {}).get(target, target)}/"
    write_json(json_path, {
        "target": target,
        "protocol": splits["protocol"],
        "run": run,
        "method": method,
        "n_splits": len(per_split),
        "unseen_classes_per_split": n_unseen,
        "chance_top1": 1.0 / n_unseen,
        "videos_scored": len(all_videos),
        "videos_not_scored": not_scored.to_dict(orient="records"),
        **summarise(per_split),
        "composition": composition,  # the (epsilon, K, d) used: cross-validated on seen classes, or fixed
        "splits": per_split,
        "config": config,
        "code_version": code_version(),
    })
