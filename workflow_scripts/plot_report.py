"""The figures of rules/report.smk: one function per rule, each drawing from the stage's artefacts."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import h5py
import numpy as np
import pandas as pd

from zsar import plots
from zsar.features import read_features
from zsar.io import read_json, read_parquet
from zsar.published import matching
from zsar.semantics import kept_classes, read_class_embedding
from zsar.summary import summary_table

wc, inputs, outputs = snakemake.wildcards, snakemake.input, snakemake.output


def plot_results():
    table = summary_table(list(inputs.results))
    rows = plots.results_rows(table, matching(table))
    plots.results_figure(rows, outputs.figure)
    plots.html_table(rows, "Results: top-1 and top-5 (%), mean and std over splits", outputs.table,
                     note="Rows marked 'published' are the papers' numbers for the same method, target and protocol, "
                          "with their backbone and source; zsar's rows come from results/<run>/*.json.")
    plots.html_table(pd.read_csv(inputs.summary), "results/summary.csv: the summary runs as the papers' tables",
                     outputs.summary, note="top-1 and top-5 in %, mean ± std over splits; hubness: mean skewness.")


def plot_overlap():
    table = pd.read_csv(inputs.table, sep="\t")
    source = read_class_embedding(inputs.source)
    targets = {name: read_class_embedding(path) for name, path in zip(snakemake.params.targets, inputs.targets)}
    title = f"{wc.source} vs {' + '.join(targets)} ({wc.embedding})"
    plots.overlap_distances(table, snakemake.params.tau, title, outputs.distances)
    kept = dict(zip(table["source_class"], table["kept"]))
    plots.overlap_map(source.names, source.vectors, kept, {n: (t.names, t.vectors) for n, t in targets.items()},
                      f"{title}: t-SNE of the class-name embeddings", outputs.map)


def plot_training():
    plots.training_curves(pd.read_csv(inputs[0]), wc.run, outputs[0])


def plot_classes():
    result = read_json(inputs.result)
    path = plots.primary_path(result)
    where = f"{wc.run} on {wc.target} {wc.seen}/{wc.unseen}, path {path}"
    accuracy = plots.per_class_accuracy(result, path)
    plots.per_class_figure(accuracy, f"{where}: top-1 per class", outputs.per_class)
    names, counts = plots.pooled_confusion(inputs.confusion, path)
    plots.confusion_figure(names, counts, f"{where}: confusion, summed over {result['n_splits']} splits",
                           outputs.confusion)
    trained = read_class_embedding(inputs.source_vectors).vectors_of(kept_classes(inputs.overlap))
    target = read_class_embedding(inputs.target_vectors)
    distance = pd.Series(1.0 - (target.vectors @ trained.T).max(axis=1), index=target.names)
    plots.accuracy_vs_distance(accuracy, distance, f"{where}: top-1 against distance to training", outputs.distance)


def plot_prototypes():
    result = read_json(inputs.result)
    table, embeddings = read_features(inputs.features)
    with h5py.File(inputs.prototypes, "r") as f:
        classes = plots.class_names(f["split_0/unseen_classes"][:])
        prototypes = f["split_0/prototypes/prototypes"][:]
    where = f"{wc.run} on {wc.target} {wc.seen}/{wc.unseen}"
    plots.prototype_map(embeddings, table["label"].tolist(), prototypes, classes,
                        f"{where}, split 0: test videos and composed prototypes (t-SNE)", outputs.map)
    plots.hubness_figure(inputs.confusion, result, f"{where}: 1-occurrences per class, all splits", outputs.hubness)
    plots.html_table(plots.composition_table(inputs.prototypes), f"{where}, split 0: composed prototypes",
                     outputs.composition, note="Constraints I+II+III (ResT eq. 1-6) with the (epsilon, K, d) chosen by "
                                               "cross-validation on the training classes.")


def plot_data():
    counts, problems = plots.data_table(read_parquet(inputs.index), read_json(inputs.gate))
    plots.data_page(wc.dataset, counts, problems, outputs[0])


np.seterr(all="ignore")
globals()[snakemake.rule]()
