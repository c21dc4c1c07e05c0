"""Objects seen in each video: the optional input of JigsawNet's object branch.

The paper tags every video with the objects an image classifier (BiT, trained on ImageNet-21k)
finds in its frames; that detector is not available offline, so zsar reads the object names of
each video from a file the user makes with any detector (config.yaml, `objects.files`):

    video_id<TAB>objects
    -a1b2c3d4e5_000010_000020<TAB>electric guitar; microphone; stage

`video_id` is the index's (index/{dataset}.parquet); names are separated by ";", and underscores
read as spaces (ImageNet synset names). A video the file does not list has no objects: its object
score is 0 and its segments are scored alone. The embedded world gets simulated detections
(`simulate_detections`).

Each distinct name is embedded once by the run's sentence encoder; a video's object vector is the
unit mean of its names' unit vectors. The stored artefact (semantic/{encoder}/{dataset}_objects.h5)
keeps the names' vectors and each video's name ids, so Kinetics-700's 580k videos take a few
megabytes, not a vector each.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping

import numpy as np

from zsar.io import read_list_tsv
from zsar.zeroshot.metrics import unit

COLUMNS = ["video_id", "objects"]
SEPARATOR = ";"


def _normalise(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("_", " ")).strip().lower()


def read_objects(path: str | os.PathLike) -> dict[str, list[str]]:
    """{video_id: object names} of an objects file (format above; `#` lines and blank lines skipped).

    Raises ValueError naming the file and line for a missing column, a video without names, an empty
    name, or a video given twice.
    """
    return read_list_tsv(path, COLUMNS, separator=f"{SEPARATOR} ", normalise=_normalise, key="video",
                         items="object names", if_none="leave out a video without objects")


def write_objects(path: str | os.PathLike, objects: Mapping[str, Iterable[str]], comment: str = "") -> None:
    """An objects file of {video_id: names}, as `read_objects` reads it."""
    from zsar.io import atomic_output

    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for line in comment.splitlines():
            handle.write(f"# {line}\n")
        handle.write("\t".join(COLUMNS) + "\n")
        for video_id, names in objects.items():
            handle.write(f"{video_id}\t{(SEPARATOR + ' ').join(names)}\n")


def simulate_detections(videos: Iterable[tuple[str, str]], object_of: Mapping[str, str], all_objects: list[str], *,
                        error_rate: float, seed: int) -> dict[str, list[str]]:
    """A detector's output for the embedded world: each video's drawn object, replaced by another of
    `all_objects` in `error_rate` of the videos (drawn per video from `seed` and its id, so the same
    whatever the order). `videos` are (video_id, label) pairs; `object_of` maps a label to its object."""
    if not 0 <= error_rate <= 1:
        raise ValueError(f"objects.synthetic_error_rate must lie in [0, 1], got {error_rate}")
    detections = {}
    for video_id, label in videos:
        drawn = object_of[label]
        key = int.from_bytes(hashlib.blake2b(video_id.encode(), digest_size=8).digest(), "little")
        rng = np.random.default_rng([seed, key])
        if rng.random() < error_rate:
            others = [o for o in all_objects if o != drawn]
            drawn = others[rng.integers(len(others))]
        detections[video_id] = [drawn]
    return detections


class VideoObjects:
    """Per-video object vectors by video_id: the unit mean of its names' vectors, or none.

    names (V,), name_vectors (V, dim) unit float32; video_ids (n,) with their names' ids
    name_ids[offsets[k]:offsets[k + 1]]. Plain numpy, so loader workers receive it cheaply.
    """

    def __init__(self, names: list[str], name_vectors: np.ndarray, video_ids: list[str], offsets: np.ndarray,
                 name_ids: np.ndarray):
        self.names, self.name_vectors = list(names), np.asarray(name_vectors, dtype=np.float32)
        self.video_ids, self.offsets = list(video_ids), np.asarray(offsets, dtype=np.int64)
        self.name_ids = np.asarray(name_ids, dtype=np.int64)
        self._row = {video_id: k for k, video_id in enumerate(self.video_ids)}

    @property
    def dim(self) -> int:
        return self.name_vectors.shape[1]

    def vector(self, video_id: str) -> tuple[np.ndarray, bool]:
        """(dim,) float32 object vector of a video and whether it has objects (zeros when not)."""
        k = self._row.get(video_id)
        if k is None:
            return np.zeros(self.dim, np.float32), False
        return unit(self.name_vectors[self.name_ids[self.offsets[k]:self.offsets[k + 1]]].mean(axis=0)), True

    def of(self, video_id: str) -> dict:
        """A video's inputs to a model with an object branch (zsar.methods.spec.VideoSide): its object
        vector and whether it has objects."""
        vector, present = self.vector(video_id)
        return {"objects": vector, "present": present}

    def coverage(self, video_ids: Iterable[str]) -> int:
        """How many of `video_ids` have objects."""
        return sum(video_id in self._row for video_id in video_ids)

    def check(self, video_ids, what: str, required: bool = True) -> str:
        """How many of `video_ids` have objects, for the log; when `required`, an error if none has
        (the file's first column is not the index's video_id)."""
        video_ids = list(video_ids)
        covered = self.coverage(video_ids)
        if required and video_ids and not covered:
            raise ValueError(f"none of the {len(video_ids)} {what} has objects in the objects file "
                             f"(first: {video_ids[0]!r}; the file's first: {self.video_ids[0]!r}): its first "
                             "column must be the video_id of index/{dataset}.parquet")
        return f"{covered} of {len(video_ids)} {what} have objects"

    @property
    def digest(self) -> str:
        """What these objects are, for a training checkpoint's fingerprint."""
        h = hashlib.sha256(json.dumps([self.names, self.video_ids]).encode())
        for array in (self.name_vectors, self.offsets, self.name_ids):
            h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()


def embed_objects(objects: Mapping[str, list[str]], spec: dict, model=None,
                  where: str = "the objects file") -> tuple[VideoObjects, dict]:
    """The VideoObjects of {video_id: names}, and counts for the log.

    Whether the ids are the dataset's is checked where the videos are known (`coverage`, at
    training): this stage does not read the index, so re-cutting the clip cache leaves it alone.
    """
    from zsar.semantics.embedding import embed_phrases

    if not objects:
        raise ValueError(f"{where}: lists no videos; give at least one line video_id<TAB>objects")
    order = sorted(objects)
    names = sorted({name for video_id in order for name in objects[video_id]})
    column = {name: k for k, name in enumerate(names)}
    offsets = np.concatenate([[0], np.cumsum([len(objects[v]) for v in order])]).astype(np.int64)
    name_ids = np.array([column[name] for video_id in order for name in objects[video_id]], dtype=np.int64)
    report = {"videos": len(order), "names": len(names)}
    return VideoObjects(names, embed_phrases(names, spec, model), order, offsets, name_ids), report


def write_video_objects(path, objects: VideoObjects, embedding_name: str, spec: dict, report: dict) -> None:
    """semantic/{embedding}/{dataset}_objects.h5 (see the module docstring)."""
    import h5py

    from zsar.io import atomic_output

    strings = h5py.string_dtype()
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("names", data=np.array(objects.names, dtype=object), dtype=strings)
        f.create_dataset("name_vectors", data=objects.name_vectors)
        # Compressed: Kinetics-700's 580k ids and their names' ids take 59 MB raw.
        f.create_dataset("video_id", data=np.array(objects.video_ids, dtype=object), dtype=strings,
                         compression="gzip")
        f.create_dataset("offsets", data=objects.offsets, compression="gzip")
        f.create_dataset("name_ids", data=objects.name_ids.astype(np.int32), compression="gzip")
        f.attrs["embedding"] = embedding_name
        f.attrs["spec"] = json.dumps(spec, sort_keys=True)
        f.attrs["report"] = json.dumps(report, sort_keys=True)


def read_video_objects(path) -> VideoObjects:
    from zsar.io import open_h5

    with open_h5(path) as f:
        return VideoObjects(f["names"].asstr()[:].tolist(), f["name_vectors"][:], f["video_id"].asstr()[:].tolist(),
                            f["offsets"][:], f["name_ids"][:])
