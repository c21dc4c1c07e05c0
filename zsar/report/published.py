"""Top-1 accuracies (%) that the papers report, for the report's results table and figure.

Each row names the paper, the backbone and the source the model was trained on, so that a reader
compares like with like: K664 is Kinetics-700 without the classes within 0.05 of UCF101 and HMDB51,
K605 also without those of ActivityNet (E2E Sec. 4.1). Protocols are zsar's names: "0/50" is ten
random halves of the target classes, "0/100" all of them, "60/160" Kinetics-ZSAR's published splits,
"0/full" all the classes on each official split's test videos (UCF101, HMDB51), the mean over the three.
"""

from __future__ import annotations

import pandas as pd

E2E = "Brattoli et al., CVPR 2020"
REST = "Lin et al., CVPR 2022"
JIGSAW = "Qian et al., ECCV 2022"
MAXI = "Lin et al., ICCV 2023"

# (method, paper, model, source, target, protocol, top-1, std or None)
ROWS = [
    ("e2e", E2E, "R(2+1)D-18", "K664", "ucf101", "0/50", 48.0, None),
    ("e2e", E2E, "R(2+1)D-18", "K664", "hmdb51", "0/50", 32.7, None),
    ("e2e", E2E, "R(2+1)D-18", "K605", "ucf101", "0/50", 44.1, None),
    ("e2e", E2E, "R(2+1)D-18", "K605", "hmdb51", "0/50", 29.8, None),
    ("e2e", E2E, "R(2+1)D-18", "K605", "activitynet", "0/50", 26.6, None),
    ("e2e", E2E, "R(2+1)D-18", "K664", "ucf101", "0/100", 37.6, None),
    ("e2e", E2E, "R(2+1)D-18", "K664", "hmdb51", "0/100", 26.9, None),
    ("e2e", E2E, "R(2+1)D-18", "K605", "ucf101", "0/100", 35.3, None),
    ("e2e", E2E, "R(2+1)D-18", "K605", "hmdb51", "0/100", 24.8, None),
    ("e2e", E2E, "R(2+1)D-18", "K605", "activitynet", "0/100", 20.0, None),
    *[("rest", REST, model, source, target, protocol, top1, None)
      for model, source, target, protocol, top1 in [
          ("ResT-18", "K664", "ucf101", "0/50", 54.7), ("ResT-101", "K664", "ucf101", "0/50", 58.7),
          ("ResT-18", "K664", "hmdb51", "0/50", 39.3), ("ResT-101", "K664", "hmdb51", "0/50", 41.1),
          ("ResT-18", "K605", "ucf101", "0/50", 50.9), ("ResT-101", "K605", "ucf101", "0/50", 55.9),
          ("ResT-18", "K605", "hmdb51", "0/50", 37.6), ("ResT-101", "K605", "hmdb51", "0/50", 40.8),
          ("ResT-18", "K605", "activitynet", "0/50", 29.2), ("ResT-101", "K605", "activitynet", "0/50", 32.5),
          ("ResT-18", "K605", "ucf101", "0/100", 41.2), ("ResT-101", "K605", "ucf101", "0/100", 46.7),
          ("ResT-18", "K605", "hmdb51", "0/100", 30.6), ("ResT-101", "K605", "hmdb51", "0/100", 34.4),
          ("ResT-18", "K605", "activitynet", "0/100", 23.0), ("ResT-101", "K605", "activitynet", "0/100", 26.3)]],
    ("jigsaw", JIGSAW, "R(2+1)D-34, BERT, BiT", "K605", "ucf101", "0/50", 56.0, 3.1),
    ("jigsaw", JIGSAW, "R(2+1)D-34, BERT, BiT", "K605", "hmdb51", "0/50", 38.7, 3.7),
    ("jigsaw", JIGSAW, "R(2+1)D-34, BERT, BiT", "K400 (+IG65M)", "kineticszsar", "60/160", 45.9, 1.6),
    # The CLIP family as MAXI reports it (its supplement's Tables 9-10 and main results): ViT-B/16,
    # single view and prompt at inference; CLIP not fine-tuned, ViFi-CLIP and MAXI fine-tuned on K400.
    *[(method, MAXI, "CLIP ViT-B/16", source, target, protocol, top1, None)
      for method, source, target, protocol, top1 in [
          ("clip", "-", "ucf101", "0/full", 69.9), ("clip", "-", "hmdb51", "0/full", 38.0),
          ("clip", "-", "kineticszsar", "60/160", 63.5),
          ("vificlip", "K400", "ucf101", "0/full", 76.8), ("vificlip", "K400", "hmdb51", "0/full", 51.3),
          ("vificlip", "K400", "kineticszsar", "60/160", 71.2),
          ("maxi", "K400", "ucf101", "0/full", 78.2), ("maxi", "K400", "hmdb51", "0/full", 52.2),
          ("maxi", "K400", "kineticszsar", "60/160", 71.4)]],
]
COLUMNS = ["method", "paper", "model", "source", "target", "protocol", "top1", "top1_std"]


def published() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=COLUMNS)


def matching(table: pd.DataFrame) -> pd.DataFrame:
    """The published rows whose method, target and protocol appear in a summary table (zsar.report.summary)."""
    keys = set(zip(table["method"], table["target"], table["protocol"]))
    rows = published()
    return rows[[key in keys for key in zip(rows["method"], rows["target"], rows["protocol"])]].reset_index(drop=True)
