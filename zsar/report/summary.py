"""Results as tables, a row per run, target, protocol and path (ResT Table 8 variants included).

    python -m zsar.report.summary results/*.json                 # print a markdown table
    python -m zsar.report.summary --csv out.csv results/*.json   # write the same rows as CSV
    python -m zsar.report.summary results/*/*_gzsl_*.json        # generalized zero-shot results: their own table
    python -m zsar.report.summary --gzsl-figure out.png results/*/*_gzsl_*.json   # and their curves
"""

from __future__ import annotations

import argparse

import pandas as pd

from zsar.io import read_json
from zsar.methods import method as method_spec
from zsar.zeroshot.scoring import PATHS

COMPOSED = "prototypes"  # every method's composed prototypes (ResT's semantic relatedness transfer)


def main_path(method: str, paths) -> str:
    """The path a run is judged by, among the `paths` its result has: its method's own scorer's
    (E2E's word vectors, JigsawNet's alignment), else the composed prototypes. A fixed choice, never
    the best on test."""
    try:
        own = method_spec(method).paths
    except ValueError:  # a published row's method, or a package no longer installed
        own = ()
    return next((p for p in (*own, COMPOSED, *paths) if p in set(paths)), COMPOSED)


def summary_table(paths) -> pd.DataFrame:
    """Accuracies in %, mean and std over splits, with the mean hubness skew and chance."""
    rows = []
    for path in paths:
        r = read_json(path)
        for name in (n for n in PATHS if n in r):
            rows.append({
                "run": r["run"], "method": r.get("method", "e2e"), "target": r["target"],
                "protocol": r["protocol"], "path": name,
                "top1": round(100 * r[name]["top1"]["mean"], 2), "top1_std": round(100 * r[name]["top1"]["std"], 2),
                "top5": round(100 * r[name]["top5"]["mean"], 2), "top5_std": round(100 * r[name]["top5"]["std"], 2),
                "hubness_skew": round(r[name]["hubness_skew"]["mean"], 3) if "hubness_skew" in r[name] else None,
                "chance_top1": round(100 * r["chance_top1"], 2), "n_splits": r["n_splits"],
            })
    return pd.DataFrame(rows)


def papers_layout(table: pd.DataFrame) -> pd.DataFrame:
    """The papers' layout (E2E Tables 1-2, ResT Table 8): a row per method, run and path; for each
    target and protocol, top-1 and top-5 as "mean ± std" and the hubness skew."""
    if table.empty:
        return table
    cells = table.assign(
        dataset=table["target"] + " " + table["protocol"],
        **{"top-1": table["top1"].map("{:.1f}".format) + " ± " + table["top1_std"].map("{:.1f}".format),
           "top-5": table["top5"].map("{:.1f}".format) + " ± " + table["top5_std"].map("{:.1f}".format),
           "hubness": table["hubness_skew"].map("{:.2f}".format)})
    order = list(dict.fromkeys(cells["dataset"]))
    wide = cells.pivot_table(index=["method", "run", "path"], columns="dataset",
                             values=["top-1", "top-5", "hubness"], aggfunc="first", sort=False)
    wide = wide.reindex(columns=[(m, d) for d in order for m in ("top-1", "top-5", "hubness")])
    wide.columns = [f"{d} {m}" for m, d in wide.columns]
    rows = list(dict.fromkeys(zip(table["method"], table["run"], table["path"])))
    return wide.reindex(rows).reset_index()


def write_run_table(results, path) -> None:
    """results/{run}/summary.csv: a row per target, protocol and path of a run's results files."""
    from zsar.io import atomic_output

    with atomic_output(path) as tmp:
        summary_table(list(results)).to_csv(tmp, index=False)


def write_papers_table(run_tables, path) -> None:
    """results/summary.csv: runs' summary.csv files side by side, laid out as the papers' tables."""
    from zsar.io import atomic_output

    table = papers_layout(pd.concat([pd.read_csv(p) for p in run_tables], ignore_index=True))
    with atomic_output(path) as tmp:
        table.to_csv(tmp, index=False)


def markdown(table: pd.DataFrame) -> str:
    lines = ["| target | protocol | run | path | top-1 (%) | top-5 (%) | hubness skew | chance top-1 (%) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples(index=False):
        lines.append(f"| {r.target} | {r.protocol} | {r.run} | {r.path} | {r.top1:.1f} ± {r.top1_std:.1f} | "
                     f"{r.top5:.1f} ± {r.top5_std:.1f} | {r.hubness_skew:.2f} | {r.chance_top1:.1f} |")
    return "\n".join(lines)


def main_table(table: pd.DataFrame) -> str:
    """A row per run and protocol: its main path's top-1 and its composed prototypes' (markdown)."""
    lines = ["| run | method | target | protocol | main path | top-1 (%) | composed prototypes top-1 (%) | chance (%) |",
             "|---|---|---|---|---|---|---|---|"]
    table = table.sort_values("run", kind="stable")
    for (run, target, protocol), rows in table.groupby(["run", "target", "protocol"], sort=False):
        by_path = rows.set_index("path")
        main = main_path(rows["method"].iloc[0], by_path.index)
        cells = [f"{by_path.loc[p, 'top1']:.1f} ± {by_path.loc[p, 'top1_std']:.1f}" if p in by_path.index else "-"
                 for p in (main, COMPOSED)]
        lines.append(f"| {run} | {rows['method'].iloc[0]} | {target} | {protocol} | {main} | {cells[0]} | "
                     f"{cells[1]} | {rows['chance_top1'].iloc[0]:.1f} |")
    return "\n".join(lines)


def gzsl_table(paths) -> str:
    """Generalized zero-shot results (results/{run}/{target}_gzsl_{unseen}.json), a row per run and path:
    seen, unseen and harmonic mean before and after calibrated stacking, AUSUC, and the unseen accuracy of
    the same videos among the unseen classes alone (the 0/N setting), in %, mean ± std over splits."""
    def cell(value):
        return f"{100 * value['mean']:.1f} ± {100 * value['std']:.1f}"

    lines = ["| run | target | protocol | path | s | u | H | calibrated s | u | H | gamma | AUSUC | 0/N u |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        r = read_json(path)
        for name in (n for n in ("e2e", "prototypes") if n in r):
            raw, cal = r[name]["uncalibrated"], r[name]["calibrated"]
            lines.append(f"| {r['run']} | {r['target']} | {r['protocol']} | {name} | "
                         + " | ".join(cell(raw[k]) for k in ("seen", "unseen", "harmonic")) + " | "
                         + " | ".join(cell(cal[k]) for k in ("seen", "unseen", "harmonic"))
                         + f" | {cal['gamma']['mean']:.3f} | {cell(r[name]['ausuc'])} | {cell(r[name]['zsl_unseen'])} |")
    return "\n".join(lines)


def gzsl_figure(paths, out) -> None:
    """The seen-unseen accuracy curves of generalized zero-shot results (mean over splits), one line per
    run and path, with the uncalibrated (circle) and calibrated (square) points; a PNG at `out`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for path in paths:
        r = read_json(path)
        for name in (n for n in ("e2e", "prototypes") if n in r):
            curve = [(u, s) for u, s in zip(r[name]["curve"]["unseen"], r[name]["curve"]["seen"]) if s is not None]
            line, = ax.plot(*zip(*[(100 * u, 100 * s) for u, s in curve]), drawstyle="steps-post",
                            label=f"{r['run']} {name} (AUSUC {100 * r[name]['ausuc']['mean']:.1f})")
            for setting, marker in (("uncalibrated", "o"), ("calibrated", "s")):
                point = r[name][setting]
                ax.plot(100 * point["unseen"]["mean"], 100 * point["seen"]["mean"], marker, color=line.get_color())
    ax.set_xlabel("unseen accuracy (%)")
    ax.set_ylabel("seen accuracy (%)")
    ax.set_title("Generalized zero-shot: ● uncalibrated, ■ calibrated stacking", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description="Tabulate zsar results JSON files.")
    parser.add_argument("results", nargs="+")
    parser.add_argument("--csv", help="write the table to this CSV file instead of printing it")
    parser.add_argument("--main", action="store_true",
                        help="print a row per run and protocol: its main path and its composed prototypes")
    parser.add_argument("--gzsl-figure", metavar="PNG", help="draw the generalized zero-shot results' curves there")
    args = parser.parse_args()
    gzsl = [path for path in args.results if "_gzsl_" in path]
    if gzsl and args.gzsl_figure:
        gzsl_figure(gzsl, args.gzsl_figure)
    if gzsl:
        print(gzsl_table(gzsl))
        args.results = [path for path in args.results if path not in gzsl]
        if not args.results:
            return
    table = summary_table(args.results)
    if args.csv:
        table.to_csv(args.csv, index=False)
    else:
        print(main_table(table) if args.main else markdown(table))


if __name__ == "__main__":
    main()
