"""Print results JSON files as a table: `python -m zsar.summary results/*.json`."""

from __future__ import annotations

import sys

from zsar.io import read_json
from zsar.scoring import PATHS


def table(paths: list[str]) -> str:
    lines = ["| target | protocol | run | path | top-1 (%) | top-5 (%) | chance top-1 (%) |",
             "|---|---|---|---|---|---|---|"]
    for path in paths:
        r = read_json(path)
        for name in (n for n in PATHS if n in r):
            top1, top5 = r[name]["top1"], r[name]["top5"]
            lines.append(
                f"| {r['target']} | {r['protocol']} | {r['run']} | {name} | "
                f"{100 * top1['mean']:.1f} ± {100 * top1['std']:.1f} | "
                f"{100 * top5['mean']:.1f} ± {100 * top5['std']:.1f} | {100 * r['chance_top1']:.1f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1:]))
