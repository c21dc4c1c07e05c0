"""The video index: one row per video with its label, split, shard and what decoding it found."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

INDEX_COLUMNS = ["video_id", "path", "label", "split", "shard", "frames", "fps", "height", "width",
                 "decodable", "problem"]


def probe_video(path: Path) -> dict:
    """Frame count, frame rate and size as decord reads them; a problem string instead of raising."""
    import decord

    if not path.exists():
        return {"decodable": False, "problem": "missing file"}
    try:
        reader = decord.VideoReader(str(path), num_threads=1)
        frames = len(reader)
        if frames == 0:
            return {"decodable": False, "problem": "zero frames"}
        height, width = reader[0].shape[:2]
        # The last frame is where truncated files fail; reading it proves the whole index is usable.
        reader[frames - 1]
        return {"frames": frames, "fps": float(reader.get_avg_fps()), "height": height, "width": width,
                "decodable": True, "problem": ""}
    except Exception as error:  # decord raises DECORDError and RuntimeError alike
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        reason = reason.replace(str(path), path.name)  # results must not depend on where the data lives
        return {"decodable": False, "problem": f"decord: {reason[:200]}"}


def read_annotations_csv(root: Path) -> pd.DataFrame:
    """The embedded world's layout: annotations.csv with video_id, path, label, split."""
    table = pd.read_csv(root / "annotations.csv", dtype=str)
    expected = {"video_id", "path", "label", "split"}
    if not expected <= set(table.columns):
        raise ValueError(f"{root / 'annotations.csv'}: columns {sorted(expected)} expected, "
                         f"found {list(table.columns)}")
    return table


def index_videos(annotations: pd.DataFrame, root: Path, n_shards: int) -> pd.DataFrame:
    """Probe every annotated video under `root` and assign it to one of `n_shards` shards.

    Rows are sorted by (label, video_id) and dealt round-robin, so every shard holds every class.
    """
    root = Path(root).resolve()
    table = annotations.sort_values(["label", "video_id"], kind="stable").reset_index(drop=True)
    rows = []
    for position, row in enumerate(table.itertuples(index=False)):
        path = (root / row.path).resolve()
        if not path.is_relative_to(root):
            probe = {"decodable": False, "problem": f"path leaves the dataset root: {row.path}"}
        else:
            probe = probe_video(path)
        rows.append({"video_id": row.video_id, "path": row.path, "label": row.label,
                     "split": row.split, "shard": position % n_shards, **probe})
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    return index.astype({"frames": "Int64", "height": "Int64", "width": "Int64", "fps": "float64",
                         "shard": "int64", "decodable": "bool", "problem": "string"})
