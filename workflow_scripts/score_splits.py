import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.features import read_features
from zsar.io import read_json, read_parquet, write_json
from zsar.methods import method as method_spec
from zsar.prototypes import read_composition, read_seen_prototypes
from zsar.provenance import code_version
from zsar.scoring import (PATHS, ProtocolError, alignment_scores, check_unseen, phrases_chosen, score_split, summarise,
                          write_confusions)
from zsar.semantics import ClassEmbedding, read_class_embedding, read_phrase_embeddings
from zsar.splits import read_splits

target = snakemake.wildcards.target
vectors = read_class_embedding(snakemake.input.vectors)
model = read_json(snakemake.input.model)  # models/{run}/model.json: the weights are not needed here
trained, method = model["classes"], model["method"]
source = read_class_embedding(snakemake.input.source_vectors)
try:
    check_unseen(ClassEmbedding(trained, [[]] * len(trained), source.vectors_of(trained)), vectors,
                 snakemake.params.tau, target)
except ProtocolError as error:
    sys.exit(str(error))

videos, embeddings = read_features(snakemake.input.features)
index = read_parquet(snakemake.input.index)
splits = read_splits(snakemake.input.splits)
seen_classes, seen_prototypes = read_seen_prototypes(snakemake.input.seen)
composition, composed = read_composition(snakemake.input.prototypes)
# Methods scored by alignment: the target's atomic actions through the model's text projection.
phrases = read_phrase_embeddings(snakemake.input.phrases) if "phrases" in snakemake.input.keys() else None


def alignment_phrases(unseen):
    """The rows of the unseen classes' phrases, and each one's class index in `unseen`."""
    column = {c: j for j, c in enumerate(unseen)}
    rows = [k for k, c in enumerate(phrases["class"]) if c in column]
    return rows, [column[phrases["class"][k]] for k in rows]


def alignment_scorer(unseen):
    alignment = model["model_cfg"]["alignment"]
    rows, phrase_class = alignment_phrases(unseen)
    path = "alignment" if alignment == "group" else f"alignment_{alignment}"
    return {path: lambda x: alignment_scores(x, phrases["embeddings"][rows], phrase_class, len(unseen), alignment,
                                             objects=model["model_cfg"].get("objects", False))}


per_split, confusions = [], {}
if [split["unseen"] for split in composed] != splits["splits"]:
    sys.exit(f"zsar: {snakemake.input.prototypes} was composed for other splits than {snakemake.input.splits}; "
             "delete it and run snakemake again")
for k, (unseen, split) in enumerate(zip(splits["splits"], composed)):
    references = split["prototypes"]
    if "word_vectors" in method_spec(method).scores:  # the model embeds videos in the class word-vector space
        references = {"e2e": vectors.vectors_of(unseen), **references}
    reverse = {"seen_prototypes": seen_prototypes, "seen_vectors": source.vectors_of(seen_classes),
               "unseen_vectors": vectors.vectors_of(unseen), "K": int(composition["K"])}
    result = score_split(videos, embeddings, unseen, references, reverse,
                         alignment_scorer(unseen) if phrases is not None else None)
    for path in PATHS:
        if path in result:
            confusions[f"split_{k}/{path}"] = result[path].pop("confusion")
    result["relaxed_prototypes"] = split["relaxed"]
    if phrases is not None:  # does group alignment use several atomic actions of a class?
        scored = videos["label"].isin(unseen).to_numpy()
        rows, phrase_class = alignment_phrases(unseen)
        chosen = phrases_chosen(embeddings[scored], phrases["embeddings"][rows], phrase_class,
                                videos.loc[scored, "label"].map({c: j for j, c in enumerate(unseen)}).to_numpy(),
                                objects=model["model_cfg"].get("objects", False))
        result["phrases_chosen_per_video"] = float(chosen.mean())
    per_split.append(result)
    print(f"split {k} top-1: " + ", ".join(f"{path} {result[path]['top1']:.3f}" for path in PATHS if path in result),
          file=sys.stderr)

write_confusions(snakemake.output.confusion, splits["splits"], confusions)

n_unseen = len(splits["splits"][0])
not_scored = index.loc[~index["video_id"].isin(videos["video_id"]), ["video_id", "path", "problem"]].fillna("")
# The index opened these but decoding failed; decode_clips' log has the reason.
not_scored.loc[not_scored["problem"] == "", "problem"] = f"not decoded: see logs/decode_clips/{snakemake.wildcards.target}/"
write_json(snakemake.output.json, {
    "target": target,
    "protocol": splits["protocol"],
    "run": snakemake.wildcards.run,
    "method": method,
    "n_splits": len(per_split),
    "unseen_classes_per_split": n_unseen,
    "chance_top1": 1.0 / n_unseen,
    "videos_scored": len(videos),
    "videos_not_scored": not_scored.to_dict(orient="records"),
    **summarise(per_split),
    "composition": composition,  # the (epsilon, K, d) used: cross-validated on seen classes, or fixed
    "splits": per_split,
    "config": snakemake.params.config,
    "code_version": code_version(),
})
