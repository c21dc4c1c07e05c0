"""The report's figures and tables (rules/report.smk), one function per rule: each reads a stage's
artefacts through the library's readers and draws with zsar.report.plots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zsar.io import read_json, read_parquet
from zsar.report import plots
from zsar.report.published import matching
from zsar.report.summary import summary_table
from zsar.semantics.embedding import kept_classes, read_class_embedding
from zsar.zeroshot.features import read_features
from zsar.zeroshot.prototypes import read_composed_from, read_composition
from zsar.zeroshot.scoring import read_confusions


def draw_results(results: list, summary, *, figure, table, summary_page) -> None:
    """Every summary run's top-1 and top-5, with the papers' numbers for the same setting."""
    scores = summary_table(list(results))
    rows = plots.results_rows(scores, matching(scores))
    plots.results_figure(rows, figure)
    plots.html_table(rows, "Results: top-1 and top-5 (%), mean and std over splits", table,
                     note="Rows marked 'published' are the papers' numbers for the same method, target and protocol, "
                          "with their backbone and source; zsar's rows come from results/<run>/*.json.")
    plots.html_table(pd.read_csv(summary), "results/summary.csv: the summary runs as the papers' tables",
                     summary_page, note="top-1 and top-5 in %, mean ± std over splits; hubness: mean skewness.")


def draw_overlap(overlap, source, targets: dict, *, source_name: str, embedding: str, tau: float, distances,
                 class_map) -> None:
    """The overlap filter: distances to the targets against tau; a map of the class embeddings.
    `targets` maps each target dataset to its class embedding file."""
    table = pd.read_csv(overlap, sep="\t")
    source_classes = read_class_embedding(source)
    target_classes = {name: read_class_embedding(path) for name, path in targets.items()}
    title = f"{source_name} vs {' + '.join(target_classes)} ({embedding})"
    plots.overlap_distances(table, tau, title, distances)
    kept = dict(zip(table["source_class"], table["kept"]))
    plots.overlap_map(source_classes.names, source_classes.vectors, kept,
                      {n: (t.names, t.vectors) for n, t in target_classes.items()},
                      f"{title}: t-SNE of the class-name embeddings", class_map)


def draw_training(history, run: str, figure) -> None:
    plots.training_curves(pd.read_csv(history), run, figure)


def draw_classes(result_path, confusion, overlap, source_vectors, target_vectors, *, where: str,
                 per_class, confusion_figure, distance) -> None:
    """Per target class: top-1 of the run's main path, its pooled confusion, and top-1 against the
    class's cosine distance to the nearest class the model trained on."""
    result = read_json(result_path)
    path = plots.primary_path(result)
    where = f"{where}, path {path}"
    accuracy = plots.per_class_accuracy(result, path)
    plots.per_class_figure(accuracy, f"{where}: top-1 per class", per_class)
    names, counts = plots.pooled_confusion(read_confusions(confusion), path)
    plots.confusion_figure(names, counts, f"{where}: confusion, summed over {result['n_splits']} splits",
                           confusion_figure)
    trained = read_class_embedding(source_vectors).vectors_of(kept_classes(overlap))
    target = read_class_embedding(target_vectors)
    nearest = pd.Series(1.0 - (target.vectors @ trained.T).max(axis=1), index=target.names)
    plots.accuracy_vs_distance(accuracy, nearest, f"{where}: top-1 against distance to training", distance)


def draw_prototypes(result_path, confusion, features, prototypes, *, where: str, class_map, hubness,
                    composition) -> None:
    """The composed prototypes of split 0 among the test videos, hubness, and what each is composed of."""
    result = read_json(result_path)
    videos, embeddings = read_features(features)
    _, splits = read_composition(prototypes)
    with np.errstate(all="ignore"):
        plots.prototype_map(embeddings, videos["label"].tolist(), splits[0]["prototypes"]["prototypes"],
                            splits[0]["unseen"], f"{where}, split 0: test videos and composed prototypes (t-SNE)",
                            class_map)
    plots.hubness_figure(read_confusions(confusion), result, f"{where}: 1-occurrences per class, all splits", hubness)
    plots.html_table(plots.composition_table(read_composed_from(prototypes)), f"{where}, split 0: composed prototypes",
                     composition, note="Constraints I+II+III (ResT eq. 1-6) with the (epsilon, K, d) chosen by "
                                       "cross-validation on the training classes.")


def draw_data(index, gate, dataset: str, page) -> None:
    """Per dataset: videos listed, decodable and failed, and each failed video's problem."""
    counts, problems = plots.data_table(read_parquet(index), read_json(gate))
    plots.data_page(dataset, counts, problems, page)
