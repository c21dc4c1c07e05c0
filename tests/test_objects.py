"""Object names per video (zsar.semantics.objects): the user's file, the world's simulated detections, and
their embedding as the object branch reads them."""

import numpy as np
import pytest

from zsar.semantics.objects import (VideoObjects, embed_objects, read_objects, read_video_objects, simulate_detections,
                          write_objects, write_video_objects)


class FakeEncoder:
    """A sentence encoder with one fixed vector per known name (as SentenceTransformer.encode)."""

    VECTORS = {"ball": [1, 0, 0], "electric guitar": [0, 1, 0], "stage": [0, 0, 1], "box": [1, 1, 0]}

    def encode(self, texts, **kwargs):
        return np.array([self.VECTORS[t] for t in texts], dtype=np.float32)


SPEC = {"kind": "minilm"}


def test_reading_an_objects_file_normalises_names(tmp_path):
    path = tmp_path / "objects.tsv"
    path.write_text("# from my detector\nvideo_id\tobjects\nv1\tElectric_guitar; stage ;stage\nv2\tball\n")
    assert read_objects(path) == {"v1": ["electric guitar", "stage"], "v2": ["ball"]}
    write_objects(tmp_path / "again.tsv", read_objects(path), comment="rewritten")
    assert read_objects(tmp_path / "again.tsv") == read_objects(path)


@pytest.mark.parametrize("body, message", [
    ("video\tobjects\nv1\tball\n", r"line 1: expected the header video_id<tab>objects"),
    ("video_id\tobjects\nv1\tball\nv1\tbox\n", r"line 3: video 'v1' is given twice \(first on line 2\)"),
    ("video_id\tobjects\nv1\tball;;box\n", r"line 2: video 'v1' has an empty entry in 'ball;;box'; separate object names by '; '"),
    ("video_id\tobjects\nv1\t ; \n", r"line 2: video 'v1' has no object names"),
    ("video_id\tobjects\nv1\n", r"line 2: missing the column objects"),
])
def test_a_malformed_objects_file_names_the_file_and_line(tmp_path, body, message):
    path = tmp_path / "objects.tsv"
    path.write_text(body)
    with pytest.raises(ValueError, match=message) as error:
        read_objects(path)
    assert str(path) in str(error.value)


def test_simulated_detections_err_at_the_rate_asked_whatever_the_order():
    videos = [(f"v{k}", "ball falling") for k in range(2000)]
    objects = ["ball", "box", "ring"]
    detections = simulate_detections(videos, {"ball falling": "ball"}, objects, error_rate=0.2, seed=3)
    wrong = sum(names != ["ball"] for names in detections.values())
    assert 0.17 < wrong / len(videos) < 0.23
    assert all(len(names) == 1 and names[0] in objects for names in detections.values())
    assert simulate_detections(videos[::-1], {"ball falling": "ball"}, objects, error_rate=0.2, seed=3) == detections
    exact = simulate_detections(videos, {"ball falling": "ball"}, objects, error_rate=0.0, seed=3)
    assert all(names == ["ball"] for names in exact.values())


def test_a_videos_object_vector_is_the_unit_mean_of_its_names(tmp_path):
    objects = {"v1": ["electric guitar", "stage"], "v2": ["ball"]}
    embedded, report = embed_objects(objects, SPEC, FakeEncoder())
    assert report == {"videos": 2, "names": 3} and embedded.names == ["ball", "electric guitar", "stage"]
    write_video_objects(tmp_path / "objects.h5", embedded, "minilm", SPEC, report)
    stored = read_video_objects(tmp_path / "objects.h5")
    vectors, present = zip(*(stored.vector(v) for v in ["v1", "v2", "v3"]))
    assert np.allclose(vectors[0], [0, 2 ** -0.5, 2 ** -0.5]) and np.allclose(vectors[1], [1, 0, 0])
    assert np.array_equal(vectors[2], np.zeros(3)) and list(present) == [True, True, False]
    assert stored.digest == embedded.digest
    other = VideoObjects(stored.names, stored.name_vectors, ["v1", "v2"], stored.offsets, stored.name_ids[::-1].copy())
    assert other.digest != stored.digest


def test_coverage_counts_the_videos_with_objects_and_an_empty_file_is_an_error():
    embedded, _ = embed_objects({"x1": ["ball"], "x2": ["box"]}, SPEC, FakeEncoder())
    assert embedded.coverage(["x1", "v1", "v2"]) == 1 and embedded.coverage(["v1"]) == 0
    with pytest.raises(ValueError, match=r"objects.tsv: lists no videos"):
        embed_objects({}, SPEC, FakeEncoder(), where="objects.tsv")
