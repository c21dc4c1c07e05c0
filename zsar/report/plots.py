"""Every figure and table of the report (`snakemake --report report.html`), drawn from the artefacts.

Each function reads what a stage wrote and writes one PNG (matplotlib, Agg) or one self-contained
HTML table, atomically. The rules of rules/report.smk call them, one figure kind per rule, so a
figure can be redrawn alone. Figures follow the papers: the overlap filter (E2E Fig. 2-3), per-class
accuracy and confusion (E2E supp. Fig. 5-8), accuracy against distance to the training classes
(E2E Fig. 7), composed prototypes among test videos (ResT Fig. 4), hubness (ResT Table 8).
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from zsar.io import atomic_output  # noqa: E402
from zsar.zeroshot.metrics import unit  # noqa: E402
from zsar.zeroshot.scoring import PATHS  # noqa: E402
from zsar.report.summary import main_path  # noqa: E402

DPI = 120
def primary_path(result: dict) -> str:
    """The path each method is judged by in per-class figures (zsar.report.summary.main_path)."""
    return main_path(result["method"], [p for p in PATHS if p in result])


def _save(fig, path) -> None:
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    plt.close(fig)


def _map_2d(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """A 2-D t-SNE map of cosine neighbourhoods (scikit-learn), for a few dozen to a few thousand points."""
    from sklearn.manifold import TSNE

    points = np.asarray(points, dtype=np.float64)
    if len(points) < 4:
        return np.pad(points[:, :2], ((0, 0), (0, max(0, 2 - points.shape[1]))))
    perplexity = float(min(30, max(2, (len(points) - 1) // 3)))
    return TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="random", random_state=seed,
                max_iter=1000).fit_transform(unit(points))


STYLE = ("body{font-family:sans-serif;font-size:13px;margin:12px}table{border-collapse:collapse;margin-bottom:16px}"
         "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f0f0f0}"
         "tr.published td{background:#fff6e0;font-style:italic}")


def _page(title: str, body: str, path) -> None:
    """A small self-contained HTML page (the report shows HTML results inline), written atomically."""
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")
    with atomic_output(path) as tmp:
        Path(tmp).write_text(page)


def html_table(frame: pd.DataFrame, title: str, path, note: str = "") -> None:
    """A table as a page; rows whose `kind` is "published" are marked, never to be read as zsar's."""
    rows = frame.to_html(index=False, border=0, na_rep="", escape=True)
    if "kind" in frame.columns:
        head, body = rows.split("<tbody>")
        rows = head + "<tbody>" + body.replace("<tr>\n      <td>published", '<tr class="published">\n      <td>published')
    _page(title, f"<h3>{html.escape(title)}</h3>{'<p>' + html.escape(note) + '</p>' if note else ''}{rows}", path)


# ---- results ------------------------------------------------------------------------------------

def results_rows(summary: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """zsar's rows (zsar.report.summary.summary_table) and the matching published rows, one table."""
    ours = summary.assign(kind="zsar", source="", model="")[
        ["kind", "method", "run", "target", "protocol", "path", "top1", "top1_std", "top5", "top5_std",
         "hubness_skew", "n_splits"]]
    theirs = published.assign(kind="published", run=published["paper"] + ": " + published["model"] + ", "
                              + published["source"], path="as published")[
        ["kind", "method", "run", "target", "protocol", "path", "top1", "top1_std"]]
    rows = pd.concat([ours, theirs], ignore_index=True)
    return rows.astype({"n_splits": "Int64"})


def results_figure(rows: pd.DataFrame, path) -> None:
    """Top-1 mean ± std over splits, a panel per target and protocol, published numbers hatched.

    Each run shows its method's own path and composed prototypes; the table has every path."""
    own = rows.groupby("run")["path"].transform(lambda p: main_path(rows.loc[p.index[0], "method"], list(p)))
    rows = rows[(rows["kind"] == "published") | (rows["path"] == own) | (rows["path"] == "prototypes")]
    panels = list(dict.fromkeys(zip(rows["target"], rows["protocol"])))
    heights = [int(((rows["target"] == t) & (rows["protocol"] == p)).sum()) for t, p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 1.2 + 0.24 * sum(heights) + 0.6 * len(panels)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    methods = sorted(rows["method"].unique())
    colours = {m: plt.cm.tab10(i % 10) for i, m in enumerate(methods)}
    for ax, (target, protocol) in zip(axes[:, 0], panels):
        part = rows[(rows["target"] == target) & (rows["protocol"] == protocol)].iloc[::-1]
        y = np.arange(len(part))
        published = (part["kind"] == "published").to_numpy()
        bars = ax.barh(y, part["top1"], xerr=part["top1_std"].fillna(0), color=[colours[m] for m in part["method"]],
                       edgecolor="black", linewidth=0.4, error_kw={"lw": 0.8, "capsize": 2})
        for bar, is_published in zip(bars, published):
            if is_published:
                bar.set_hatch("///")
                bar.set_alpha(0.55)
        ax.set_yticks(y, [f"{r} · {p}" if k == "zsar" else r for k, r, p in zip(part["kind"], part["run"], part["path"])],
                      fontsize=7)
        for yi, value, std in zip(y, part["top1"], part["top1_std"].fillna(0)):
            ax.text(value + std + 1, yi, f"{value:.1f}", va="center", fontsize=6)  # past the error bar
        ax.set_xlim(0, 100)
        ax.set_title(f"{target} {protocol}: top-1 (%), mean ± std over splits", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[m]) for m in methods]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black", hatch="///"))
    axes[0, 0].legend(handles, [*methods, "published (papers)"], fontsize=7, loc="lower right")
    fig.tight_layout()
    _save(fig, path)


# ---- the overlap filter -------------------------------------------------------------------------

def overlap_distances(table: pd.DataFrame, tau: float, title: str, path, nearest: int = 40) -> None:
    """Left: every source class's distance to its nearest target class, sorted, with tau (E2E Fig. 3).
    Right: the `nearest` closest source classes by name, removed ones in red."""
    distances = np.sort(table["distance"].to_numpy())
    removed = int((~table["kept"]).sum())
    close = table.sort_values("distance", kind="stable").head(nearest).iloc[::-1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, max(4, 0.16 * len(close) + 1)),
                                      gridspec_kw={"width_ratios": [1, 1.2]})
    left.plot(np.arange(len(distances)), distances, lw=1.5)
    left.axhline(tau, color="tab:red", ls="--", lw=1, label=f"tau = {tau}: {removed} removed, {len(distances) - removed} kept")
    left.set_xlabel("source classes, sorted by distance")
    left.set_ylabel("cosine distance to nearest target class")
    left.set_ylim(bottom=0)
    left.legend(loc="upper left", fontsize=8)
    y = np.arange(len(close))
    right.barh(y, close["distance"], color=np.where(close["kept"], "tab:blue", "tab:red"))
    right.axvline(tau, color="tab:red", ls="--", lw=1)
    right.set_yticks(y, [f"{s}  →  {t} ({d})" for s, t, d in zip(close["source_class"], close["nearest_target_class"],
                                                                 close["nearest_target_dataset"])], fontsize=6)
    right.set_xlabel("cosine distance (red: removed)")
    right.set_title(f"the {len(close)} source classes nearest to a target class", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def overlap_map(source_names, source_vectors, kept: dict, targets: dict, title: str, path) -> None:
    """t-SNE of source and target class embeddings: kept and removed source classes apart (E2E Fig. 2).

    kept: source class -> bool; targets: dataset -> (names, vectors)."""
    names = list(source_names)
    blocks = [np.asarray(source_vectors)] + [np.asarray(v) for _, v in targets.values()]
    xy = _map_2d(np.concatenate(blocks))
    fig, ax = plt.subplots(figsize=(8, 7))
    source_xy = xy[:len(names)]
    is_kept = np.array([kept.get(n, True) for n in names])
    ax.scatter(*source_xy[is_kept].T, s=10, c="tab:blue", alpha=0.6, label="source, kept")
    start = len(names)
    for i, (dataset, (target_names, _)) in enumerate(targets.items()):
        part = xy[start:start + len(target_names)]
        ax.scatter(*part.T, s=14, marker="^", c=[plt.cm.Set2(i % 8)], alpha=0.8, label=f"target: {dataset}")
        start += len(target_names)
    ax.scatter(*source_xy[~is_kept].T, s=40, facecolors="none", edgecolors="tab:red", linewidths=1.2,
               label="source, removed (too close to a target)")
    for (x, y), name in zip(source_xy[~is_kept], np.array(names)[~is_kept]):
        ax.annotate(name, (x, y), fontsize=6, color="tab:red", xytext=(3, 3), textcoords="offset points")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    _save(fig, path)


# ---- training -----------------------------------------------------------------------------------

def training_curves(history: pd.DataFrame, run: str, path) -> None:
    """Training loss, training and validation top-1 per epoch (models/{run}/history.csv), phases shaded.

    The training top-1 is on the clips as they were drawn during the epoch (augmented, dropout on);
    histories written before it was recorded have no such column, and a phase that labels nothing
    (ResT on the masked token loss alone) has it empty."""
    fig, loss_ax = plt.subplots(figsize=(7, 3.5))
    epochs = history["epoch"].to_numpy()
    loss_ax.plot(epochs, history["train_loss"], "o-", color="tab:blue", ms=3, label="training loss")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("training loss", color="tab:blue")
    acc_ax = loss_ax.twinx()
    acc_ax.plot(epochs, 100 * history["val_top1"], "s-", color="tab:orange", ms=3, label="validation top-1 (%)")
    if "train_top1" in history and history["train_top1"].notna().any():
        acc_ax.plot(epochs, 100 * history["train_top1"], "^--", color="tab:green", ms=3, label="training top-1 (%)")
    acc_ax.set_ylabel("top-1 (%), seen classes", color="tab:orange")
    acc_ax.set_ylim(0, 100)
    phases = list(history["phase"].unique())
    for i, phase in enumerate(phases if len(phases) > 1 else []):
        span = epochs[history["phase"] == phase]
        if i % 2 == 0:
            loss_ax.axvspan(span.min() - 0.5, span.max() + 0.5, color="grey", alpha=0.12)
        loss_ax.text(span.mean(), loss_ax.get_ylim()[1], phase, ha="center", va="top", fontsize=8)
    total = history["seconds"].sum()
    loss_ax.set_title(f"{run}: {len(history)} epochs, {total / 60:.1f} min", fontsize=10)
    fig.legend(loc="upper center", bbox_to_anchor=(0.5, 0.9), fontsize=8)
    fig.tight_layout()
    _save(fig, path)


# ---- per class ----------------------------------------------------------------------------------

def per_class_accuracy(result: dict, path_name: str) -> pd.Series:
    """Each target class's top-1 (%), averaged over the splits in which it is unseen."""
    scores: dict[str, list[float]] = {}
    for split in result["splits"]:
        for name, value in split[path_name]["per_class_top1"].items():
            scores.setdefault(name, []).append(value)
    return pd.Series({name: 100 * float(np.mean(v)) for name, v in scores.items()}).sort_values(ascending=False)


def per_class_figure(accuracy: pd.Series, title: str, path) -> None:
    n = len(accuracy)
    fig, ax = plt.subplots(figsize=(7, 1 + 0.14 * n))
    y = np.arange(n)[::-1]
    ax.barh(y, accuracy.to_numpy(), color="tab:blue")
    ax.axvline(accuracy.mean(), color="black", ls="--", lw=1, label=f"mean {accuracy.mean():.1f}")
    ax.set_yticks(y, accuracy.index, fontsize=6 if n > 40 else 8)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, 100)
    ax.set_xlabel("top-1 (%), mean over the splits where the class is unseen")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    _save(fig, path)


def pooled_confusion(confusions: list[dict], path_name: str) -> tuple[list[str], np.ndarray]:
    """The confusion counts of one path summed over splits (zsar.zeroshot.scoring.read_confusions), on the
    union of the splits' classes."""
    names = sorted({n for s in confusions for n in s["classes"]})
    index = {n: i for i, n in enumerate(names)}
    total = np.zeros((len(names), len(names)), dtype=np.int64)
    for s in confusions:
        ids = np.array([index[n] for n in s["classes"]])
        total[np.ix_(ids, ids)] += s["paths"][path_name]
    return names, total


def confusion_figure(names: list[str], counts: np.ndarray, title: str, path) -> None:
    """Row-normalised confusion heatmap; names stay readable at 101 classes (the figure grows)."""
    n = len(names)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros(counts.shape, dtype=float), where=rows > 0)
    side = max(6.0, 0.16 * n + 2.5)
    font = 8 if n <= 30 else 6 if n <= 60 else 5
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = ax.imshow(share, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(np.arange(n), names, rotation=90, fontsize=font)
    ax.set_yticks(np.arange(n), names, fontsize=font)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="share of the true class's videos")
    fig.tight_layout()
    _save(fig, path)


def accuracy_vs_distance(accuracy: pd.Series, distance: pd.Series, title: str, path) -> None:
    """Per test class: top-1 against cosine distance to the nearest kept training class (E2E Fig. 7)."""
    from scipy.stats import spearmanr

    both = pd.DataFrame({"accuracy": accuracy, "distance": distance}).dropna()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(both["distance"], both["accuracy"], s=14, alpha=0.7)
    if len(both) > 2 and both["distance"].std() > 0:
        slope, intercept = np.polyfit(both["distance"], both["accuracy"], 1)
        xs = np.linspace(both["distance"].min(), both["distance"].max(), 2)
        ax.plot(xs, slope * xs + intercept, color="tab:red", lw=1)
        rho = spearmanr(both["distance"], both["accuracy"]).statistic
        title += f"\nSpearman rho = {rho:.2f} over {len(both)} classes"
    for name, row in both.sort_values("accuracy").head(3).iterrows():
        ax.annotate(name, (row["distance"], row["accuracy"]), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("cosine distance to the nearest training class (class-name embedding)")
    ax.set_ylabel("top-1 (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)


# ---- prototypes ---------------------------------------------------------------------------------

def prototype_map(embeddings: np.ndarray, labels: list[str], prototypes: np.ndarray, classes: list[str],
                  title: str, path, per_class: int = 40, seed: int = 0) -> None:
    """t-SNE of the test videos of one split's unseen classes with their composed prototypes (ResT Fig. 4).

    At most `per_class` videos of each class (a seeded sample) are drawn: a map of a benchmark's
    thousands of videos is unreadable, and t-SNE's time grows with the points."""
    labels = np.asarray(labels)
    order = np.random.default_rng(seed).permutation(len(labels))
    rank = pd.Series(labels[order]).groupby(labels[order]).cumcount().to_numpy()
    keep = np.zeros(len(labels), dtype=bool)
    keep[order] = np.isin(labels[order], classes) & (rank < per_class)
    xy = _map_2d(np.concatenate([embeddings[keep], prototypes]))
    videos, protos = xy[:int(keep.sum())], xy[int(keep.sum()):]
    video_labels = np.asarray(labels)[keep]
    fig, ax = plt.subplots(figsize=(8, 7))
    cmap = plt.cm.tab20
    for i, name in enumerate(classes):
        colour = cmap(i % 20)
        ax.scatter(*videos[video_labels == name].T, s=10, color=colour, alpha=0.55)
        ax.scatter(*protos[i], s=160, marker="*", color=colour, edgecolors="black", linewidths=0.8)
        if len(classes) <= 40:
            ax.annotate(name, protos[i], fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.scatter([], [], s=10, color="grey", label="test video")
    ax.scatter([], [], s=120, marker="*", color="grey", edgecolors="black", label="composed prototype")
    ax.legend(fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def hubness_figure(confusions: list[dict], result: dict, title: str, path) -> None:
    """The 1-occurrence histogram of each path: how many test videos each class is predicted for,
    pooled over splits, with the mean skewness over splits (ResT Table 8, supp. eq. 4)."""
    paths = list(confusions[0]["paths"])
    occurrences = {p: np.concatenate([s["paths"][p].sum(axis=0) for s in confusions]) for p in paths}
    cols = min(3, len(paths))
    rows = -(-len(paths) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    top = max(int(o.max()) for o in occurrences.values())
    bins = np.arange(top + 2) - 0.5 if top < 40 else 30
    for ax, p in zip(axes.flat, paths):
        ax.hist(occurrences[p], bins=bins, color="tab:purple", alpha=0.8)
        skew = result.get(p, {}).get("hubness_skew", {})
        ax.set_title(f"{p}: skew {skew.get('mean', float('nan')):.2f} ± {skew.get('std', float('nan')):.2f}",
                     fontsize=8)
        ax.set_xlabel("videos predicted as the class (N1)", fontsize=7)
        ax.set_ylabel("classes", fontsize=7)
    for ax in list(axes.flat)[len(paths):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def composition_table(composed_from: list[dict]) -> pd.DataFrame:
    """Which seen classes each unseen prototype is composed from, with their similarity weights
    (zsar.zeroshot.prototypes.read_composed_from)."""
    return pd.DataFrame([{"unseen class": row["unseen"],
                          "composed from (similarity)": ", ".join(f"{name} ({s:.2f})" for name, s in row["seen"]),
                          "seen classes": len(row["seen"]), "constraints relaxed": row["relaxed"]}
                         for row in composed_from])


# ---- data ---------------------------------------------------------------------------------------

def data_table(index: pd.DataFrame, gate: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per split: videos listed, decodable and failed; and the problem of every failed video."""
    counts = (index.assign(failed=~index["decodable"])
              .groupby("split", sort=True).agg(listed=("video_id", "size"), decodable=("decodable", "sum"),
                                                failed=("failed", "sum"), classes=("label", "nunique")).reset_index())
    total = pd.DataFrame([{"split": "all", "listed": len(index), "decodable": int(index["decodable"].sum()),
                           "failed": int((~index["decodable"]).sum()), "classes": index["label"].nunique()}])
    counts = pd.concat([counts, total], ignore_index=True)
    counts["data gate"] = f"needs {gate.get('min_decodable')} decodable, {gate.get('min_videos_per_class')} per class"
    problems = index.loc[~index["decodable"], ["video_id", "label", "split", "path", "problem"]]
    return counts, problems.reset_index(drop=True)


def data_page(dataset: str, counts: pd.DataFrame, problems: pd.DataFrame, path, limit: int = 500) -> None:
    shown = problems.head(limit)
    note = (f"{len(problems)} videos failed; the first {limit} are shown (index/{dataset}.parquet has all)"
            if len(problems) > limit else f"{len(problems)} videos failed")
    _page(dataset, f"<h3>{html.escape(dataset)}: videos indexed</h3>{counts.to_html(index=False, border=0)}"
                   f"<h3>Problems</h3><p>{html.escape(note)}</p>"
                   f"{shown.to_html(index=False, border=0) if len(shown) else ''}", path)
