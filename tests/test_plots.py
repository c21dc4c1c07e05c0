"""What the report's figures and tables are computed from (zsar/report/plots.py, zsar/report/published.py)."""

import h5py
import numpy as np
import pandas as pd
from PIL import Image

from zsar.report import plots
from zsar.report.published import matching
from zsar.zeroshot.prototypes import read_composed_from
from zsar.zeroshot.scoring import read_confusions


def summary(method, target, protocol, path="e2e", top1=50.0):
    return pd.DataFrame([{"run": "r", "method": method, "target": target, "protocol": protocol, "path": path,
                          "top1": top1, "top1_std": 1.0, "top5": 80.0, "top5_std": 2.0, "hubness_skew": 0.1,
                          "chance_top1": 2.0, "n_splits": 10}])


def test_published_numbers_are_shown_only_for_the_same_method_target_and_protocol():
    rows = matching(summary("e2e", "ucf101", "0/50"))
    assert sorted(zip(rows["source"], rows["top1"])) == [("K605", 44.1), ("K664", 48.0)]
    assert matching(summary("e2e", "synthetic", "0/50")).empty
    assert matching(summary("rest", "ucf101", "0/100"))["model"].tolist() == ["ResT-18", "ResT-101"]
    table = plots.results_rows(summary("jigsaw", "hmdb51", "0/50", "alignment"),
                               matching(summary("jigsaw", "hmdb51", "0/50")))
    assert table["kind"].tolist() == ["zsar", "published"]
    assert table.loc[1, ["top1", "top1_std"]].tolist() == [38.7, 3.7]


def test_the_results_table_marks_published_rows_apart(tmp_path):
    ours = summary("e2e", "ucf101", "0/50")
    plots.html_table(plots.results_rows(ours, matching(ours)), "results", tmp_path / "t.html")
    page = (tmp_path / "t.html").read_text()
    assert page.count('<tr class="published">') == 2  # K664 and K605; zsar's own row is unmarked


def test_per_class_accuracy_averages_the_splits_in_which_a_class_is_unseen():
    result = {"splits": [{"e2e": {"per_class_top1": {"a": 1.0, "b": 0.0}}},
                         {"e2e": {"per_class_top1": {"a": 0.5, "c": 0.25}}}]}
    accuracy = plots.per_class_accuracy(result, "e2e")
    assert accuracy.to_dict() == {"a": 75.0, "c": 25.0, "b": 0.0}  # sorted, best first


def test_confusions_of_splits_with_different_classes_are_summed_on_their_union(tmp_path):
    path = tmp_path / "c.h5"
    with h5py.File(path, "w") as f:
        for k, (classes, counts) in enumerate([(["a", "b"], [[2, 1], [0, 3]]), (["b", "c"], [[1, 1], [0, 2]])]):
            f[f"split_{k}/classes"] = np.array(classes, dtype=object).astype("S")
            f[f"split_{k}/e2e"] = np.array(counts)
    names, total = plots.pooled_confusion(read_confusions(path), "e2e")
    assert names == ["a", "b", "c"]
    assert total.tolist() == [[2, 1, 0], [0, 4, 1], [0, 0, 2]]


def test_a_confusion_of_101_classes_gives_every_name_a_readable_row(tmp_path):
    names = [f"class number {i}" for i in range(101)]
    counts = np.eye(101, dtype=int) * 5
    plots.confusion_figure(names, counts, "101 classes", tmp_path / "c.png")
    width, height = Image.open(tmp_path / "c.png").size
    # the matrix takes most of the height; each of the 101 rows gets at least 12 pixels (a 5-pt label)
    assert height / 101 >= 12 and width >= height


def test_the_composition_table_names_the_seen_classes_of_each_prototype_by_similarity(tmp_path):
    path = tmp_path / "p.h5"
    with h5py.File(path, "w") as f:
        f["seen_classes"] = np.array(["run", "walk", "jump"], dtype="S")
        f["split_0/unseen_classes"] = np.array(["jog", "hop"], dtype="S")
        f["split_0/S"] = np.array([[0.9, 0.6, 0.1], [0.2, 0.1, 0.8]], dtype=np.float32)
        f["split_0/prototypes/A"] = np.array([[1, 1, 0], [0, 0, 0]], dtype=np.int8)
        f["split_0/prototypes/relaxed"] = np.array([False, True])
    table = plots.composition_table(read_composed_from(path))
    assert table["composed from (similarity)"].tolist() == ["run (0.90), walk (0.60)", ""]
    assert table["constraints relaxed"].tolist() == [False, True]


def test_the_data_table_counts_failed_videos_per_split_and_lists_their_problems():
    index = pd.DataFrame({"video_id": ["a", "b", "c"], "label": ["x", "x", "y"], "split": ["train", "train", "val"],
                          "path": ["a.mp4", "b.mp4", "c.mp4"], "decodable": [True, False, True],
                          "problem": ["", "decord: cannot open", ""]})
    counts, problems = plots.data_table(index, {"min_decodable": 0.5, "min_videos_per_class": 2})
    assert counts.set_index("split")[["listed", "decodable", "failed"]].to_dict("index") == {
        "train": {"listed": 2, "decodable": 1, "failed": 1}, "val": {"listed": 1, "decodable": 1, "failed": 0},
        "all": {"listed": 3, "decodable": 2, "failed": 1}}
    assert problems[["video_id", "problem"]].values.tolist() == [["b", "decord: cannot open"]]


def test_the_prototype_map_draws_a_sample_of_each_class(tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(plots, "_map_2d", lambda points: drawn.setdefault("n", len(points)) and np.zeros((len(points), 2)))
    rng = np.random.default_rng(0)
    labels = ["a"] * 100 + ["b"] * 3 + ["c"] * 50  # c is not unseen in this split
    plots.prototype_map(rng.normal(size=(153, 8)), labels, rng.normal(size=(2, 8)), ["a", "b"], "t",
                        tmp_path / "m.png", per_class=40)
    assert drawn["n"] == 40 + 3 + 2  # 40 of a, all 3 of b, and the two prototypes
