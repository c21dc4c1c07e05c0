"""The report's page of a prediction (rule plot_predictions): one self-contained HTML file with, per
video, a strip of frames spread over it (read from the clip cache, JPEG thumbnails inlined) and its
top classes with their scores; the videos that could not be read are listed below."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd
from PIL import Image

from zsar.data.cache import Shards, cached_videos
from zsar.io import atomic_output, read_json

FRAMES = 4  # frames a strip shows
HEIGHT = 72  # pixels of a thumbnail's height

STYLE = """
body { font-family: sans-serif; margin: 1em; }
table { border-collapse: collapse; }
td, th { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: middle; }
img { height: %dpx; margin-right: 2px; }
td.frames { white-space: nowrap; }
.score { color: #666; font-size: 90%%; }
.top { font-weight: bold; }
""" % HEIGHT


def _thumbnail(frame: np.ndarray) -> str:
    image = Image.fromarray(frame)
    image.thumbnail((HEIGHT * 4, HEIGHT))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def strip(video) -> list[str]:
    """Base64 JPEG thumbnails of FRAMES frames spread over a cached video."""
    indices = np.unique(np.linspace(0, video.n_frames - 1, FRAMES).round().astype(int))
    return [_thumbnail(frame) for frame in video.read(indices)]


def write_page(predictions_csv, record_json, shard_paths: list[str], out_path, *, max_videos: int = 60) -> int:
    """Write the page; returns how many videos it shows. Grouped by their top class, each group its
    most confident videos first, at most `max_videos` in all shared out over the classes."""
    table = pd.read_csv(predictions_csv, keep_default_na=False)
    record = read_json(record_json)
    where = cached_videos(shard_paths).set_index("video_id")["shard_path"].to_dict()
    k = sum(1 for column in table.columns if column.startswith("class_"))
    read = table[table["problem"] == ""]
    groups = {name: group.sort_values("score_1", ascending=False, kind="stable")
              for name, group in read.groupby("class_1", sort=False)}
    order = [name for name in record["class_names"] if name in groups]
    per_class = max(1, max_videos // max(1, len(order)))
    shards = Shards(max_open=8)
    rows, shown = [], 0
    for name in order:
        group = groups[name]
        rows.append(f'<tr><th colspan="{k + 2}">{html.escape(name)}: {len(group)} videos'
                    f'{f", the {per_class} most confident shown" if len(group) > per_class else ""}</th></tr>')
        for entry in group.head(per_class).itertuples(index=False):
            entry = entry._asdict()
            images = "".join(f'<img src="data:image/jpeg;base64,{b64}">'
                             for b64 in (strip(shards.video(where[entry["video_id"]], entry["video_id"]))
                                         if entry["video_id"] in where else []))
            classes = "".join(
                f'<td class="{"top" if r == 1 else ""}">{html.escape(str(entry[f"class_{r}"]))} '
                f'<span class="score">{float(entry[f"score_{r}"]):.3f}</span></td>' for r in range(1, k + 1))
            rows.append(f'<tr><td>{html.escape(entry["path"])}</td><td class="frames">{images}</td>{classes}</tr>')
            shown += 1
    shards.close()
    failed = table[table["problem"] != ""]
    near = record.get("near_trained_classes", [])
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(record['run'])}: {html.escape(record['videos'])} labelled with "
        f"{html.escape(record['classes'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(record['videos'])} labelled with {html.escape(record['classes'])}</h1>",
        f"<p>Run <b>{html.escape(record['run'])}</b> ({html.escape(record['method'])}), path "
        f"<b>{html.escape(record['path'])}</b>: {html.escape(record['path_description'])}. "
        f"{len(read)} videos labelled among {len(record['class_names'])} classes "
        f"({html.escape(', '.join(record['class_names'][:20]))}{', ...' if len(record['class_names']) > 20 else ''})"
        f"; {len(failed)} could not be read.</p>",
    ]
    if near:
        parts.append("<p>Within the overlap threshold of a class the run trained on (these labels are not "
                     "zero-shot): " + html.escape(", ".join(f"{n['class']} ({n['trained']})" for n in near)) + ".</p>")
    parts.append("<table><tr><th>video</th><th>frames</th>"
                 + "".join(f"<th>{r}</th>" for r in range(1, k + 1)) + "</tr>" + "".join(rows) + "</table>")
    if len(failed):
        parts.append("<h2>Not read</h2><table><tr><th>video</th><th>problem</th></tr>" + "".join(
            f"<tr><td>{html.escape(p)}</td><td>{html.escape(q)}</td></tr>"
            for p, q in zip(failed["path"], failed["problem"])) + "</table>")
    parts.append("</body></html>")
    with atomic_output(out_path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("\n".join(parts))
    return shown
