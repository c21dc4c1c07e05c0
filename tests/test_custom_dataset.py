"""A dataset of the user's own (docs/data.md, "Your own dataset"): data_manifest/templates/custom.yaml,
a class list and an annotations CSV (layout_kind csv), read and run through the DAG."""

import csv
import json
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import REPO, copy_workflow, snakemake
from test_workflow import planned_jobs
from zsar.data.layouts import LayoutError, read_layout
from zsar.data.manifest import ManifestError, class_names, load_manifest, missing_data_message
from zsar.semantics.embedding import class_words

TEMPLATE = REPO / "data_manifest/templates/custom.yaml"
CLASSES = ["high jump", "Long_jump", "pole-vault"]


def user_dataset(tmp_path, annotations: str | None = None, classes: str | None = None, name: str = "mydata"):
    """The template copied to <tmp>/manifests/<name>.yaml and the two files under <tmp>/data/<name>/;
    returns (manifest directory, data root)."""
    manifests, data = tmp_path / "manifests", tmp_path / "data"
    manifests.mkdir(exist_ok=True)
    shutil.copy(TEMPLATE, manifests / f"{name}.yaml")
    (data / name).mkdir(parents=True, exist_ok=True)
    if classes is None:
        classes = "\n".join(CLASSES) + "\n"
    if annotations is None:
        annotations = ("path,label,split\n"
                       "videos/hj/001.mp4,high jump,train\n"
                       "./videos/lj//001.mp4,Long_jump,val\n"  # normalised to videos/lj/001.mp4
                       "pv 1.avi,pole-vault,test\n")
    (data / name / "classes.txt").write_text(classes)
    (data / name / "annotations.csv").write_text(annotations)
    return manifests, data


def read(tmp_path, annotations=None, classes=None):
    manifests, data = user_dataset(tmp_path, annotations, classes)
    return read_layout(load_manifest("mydata", manifests, data), data / "mydata")


def test_the_template_reads_the_class_list_and_annotations_beside_the_videos(tmp_path):
    manifests, data = user_dataset(tmp_path)
    manifest = load_manifest("mydata", manifests, data)
    assert class_names(manifest) == CLASSES
    assert manifest["required"] == ["classes.txt", "annotations.csv"]
    table = read_layout(manifest, data / "mydata")
    assert list(table.columns) == ["video_id", "path", "label", "split", "file", "line"]
    assert table.drop(columns="file").to_dict(orient="records") == [
        {"video_id": "videos__hj__001", "path": "videos/hj/001.mp4", "label": "high jump", "split": "train", "line": 2},
        {"video_id": "videos__lj__001", "path": "videos/lj/001.mp4", "label": "Long_jump", "split": "val", "line": 3},
        {"video_id": "pv 1", "path": "pv 1.avi", "label": "pole-vault", "split": "test", "line": 4}]
    assert set(table["file"]) == {str(data / "mydata/annotations.csv")}
    # The template's name_style (plain) makes words of these names for the class-name embedding.
    assert [class_words(name, manifest) for name in CLASSES] == [["high", "jump"], ["long", "jump"], ["pole", "vault"]]


HEADER = "path,label,split\n"


@pytest.mark.parametrize("annotations, message", [
    (HEADER + "a.mp4,high jump,test\nb.mp4,long jump,test\n",
     r"annotations.csv line 3: label 'long jump' is not in the class list \(did you mean 'Long_jump'\?\); "
     "fix the label, or add the class to the class list"),
    (HEADER + "a.mp4,high jump,testing\n", r"annotations.csv line 2: split 'testing' is not one of train, val, test"),
    ("path,class,split\na.mp4,high jump,test\n", r"annotations.csv line 1: column\(s\) label missing; "
     "the header must name path,label,split"),
    (HEADER + "a.mp4,high jump,test\n,high jump,test\n", r"annotations.csv line 3: the path is empty"),
    (HEADER + "a.mp4,high jump,test\n\nb.mp4,high jump,val\n./a.mp4,pole-vault,train\n",
     r"annotations.csv line 5: video 'a.mp4' is listed twice \(first on line 2\)"),
    (HEADER + "a.mp4,high jump,test\na.avi,high jump,test\n",
     r"annotations.csv line 3: videos 'a.mp4' \(line 2\) and 'a.avi' have one video id, 'a'"),
    (HEADER + "../other/a.mp4,high jump,test\n", r"line 2: path '../other/a.mp4' must lie under"),
    (HEADER + "/videos/a.mp4,high jump,test\n", r"line 2: path '/videos/a.mp4' must lie under"),
    (HEADER + "videos\\a.mp4,high jump,test\n", r"line 2: path 'videos\\\\a.mp4' has backslashes"),
    ("", r"annotations.csv line 1: column\(s\) path, label, split missing"),
])
def test_a_bad_annotation_row_is_refused_naming_the_file_and_line(tmp_path, annotations, message):
    with pytest.raises(LayoutError, match=message) as error:
        read(tmp_path, annotations)
    assert str(tmp_path / "data/mydata/annotations.csv") in str(error.value)


def test_spreadsheet_csvs_read_alike_and_other_columns_are_ignored(tmp_path):
    """A byte-order mark, Windows line ends, spaces around fields, quoted commas and extra columns."""
    classes = "\ufeffhigh jump\r\njump, long\r\n\r\n"
    annotations = "\ufeffnotes, path ,label,split\r\nfirst, a.mp4 , high jump ,test\r\n,b.mp4,\"jump, long\",train\r\n"
    table = read(tmp_path, annotations, classes)
    assert table[["video_id", "path", "label", "split", "line"]].values.tolist() == [
        ["a", "a.mp4", "high jump", "test", 2], ["b", "b.mp4", "jump, long", "train", 3]]


def test_comment_lines_of_a_class_list_are_no_classes(tmp_path):
    classes = "# jumps, as the annotations write them\n" + "\n".join(CLASSES[:2]) + "\n\n  # and one more\n" + CLASSES[2]
    manifests, data = user_dataset(tmp_path, classes=classes)
    assert class_names(load_manifest("mydata", manifests, data)) == CLASSES


def test_class_list_problems_name_the_file_the_line_and_what_to_do(tmp_path):
    manifests, data = user_dataset(tmp_path, classes="high jump\nlong jump\n\nhigh jump\n")
    with pytest.raises(ManifestError, match=r"classes.txt line 4: class 'high jump' is listed twice \(first on line 1\)"):
        load_manifest("mydata", manifests, data)
    (data / "mydata/classes.txt").write_text("High  Jump\nhigh jump\n")
    with pytest.raises(ManifestError, match=r"line 2: class 'high jump' and line 1 'High  Jump' differ only in case"):
        load_manifest("mydata", manifests, data)
    (data / "mydata/classes.txt").write_text("\n  \n")
    with pytest.raises(ManifestError, match=r"classes.txt: lists no class; write one class name per line"):
        load_manifest("mydata", manifests, data)

    # Not written yet: the run stops on the missing data, naming both files; reading classes names the file.
    (data / "mydata/classes.txt").unlink()
    (data / "mydata/annotations.csv").unlink()
    manifest = load_manifest("mydata", manifests, data)
    message = missing_data_message([manifest], data)
    assert f"{data}/mydata/classes.txt\n" in message and f"{data}/mydata/annotations.csv\n" in message
    with pytest.raises(ManifestError, match=rf"{data}/mydata/classes.txt is missing: \S*mydata.yaml says "
                                            r"\(classes_file\) that the class list is there; write it"):
        class_names(manifest)


def test_manifest_mistakes_are_named(tmp_path):
    manifests, data = user_dataset(tmp_path, name="my_data")
    with pytest.raises(ManifestError, match=r"my_data.yaml: a dataset's name .* lower-case letters and digits only, "
                                            r"not 'my_data'; rename the file, e.g. to mydata.yaml"):
        load_manifest("my_data", manifests, data)
    text = TEMPLATE.read_text()
    (manifests / "both.yaml").write_text(text + "classes: [a, b]\n")
    with pytest.raises(ManifestError, match=r"both.yaml: give the classes either as a list .* or as a file"):
        load_manifest("both", manifests, data)
    (manifests / "outside.yaml").write_text(text.replace("classes_file: classes.txt", "classes_file: ../classes.txt"))
    with pytest.raises(ManifestError, match=r"outside.yaml: classes_file must name a file under the dataset's folder"):
        load_manifest("outside", manifests, data)


# ---- the DAG: the user's dataset as the target of a trained run --------------------------------


# Seven of the rendered target world's classes, named as a user might (plain name_style: case,
# underscores and hyphens are word breaks). None is close to a class the model trained on; one,
# "Wheel_spinning", is a class of the source world that the overlap filter kept out of training.
RENAMED = {"ball bouncing": "Bouncing ball", "box spinning": "spinning_box", "ring falling": "Falling ring",
           "star growing": "growing-star", "triangle orbiting": "Orbiting triangle", "wheel rolling": "Rolling wheel",
           "spinning wheels": "Wheel_spinning"}


@pytest.mark.workflow
def test_a_folder_of_videos_with_a_class_list_and_a_csv_is_scored_as_a_target(tiny_run_copy, tmp_path):
    """A user's own dataset from two files and the template: a trained run scores it without retraining."""
    work = tiny_run_copy
    workflow = copy_workflow(tmp_path)  # data_manifest/ is the workflow's: the copy takes the user's manifest
    manifest = TEMPLATE.read_text().replace("name: My dataset ", "name: My clips ")  # the template, renamed
    (tmp_path / "data_manifest/myclips.yaml").write_text(manifest)
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(workflow)]

    # The user's videos, in a folder layout of their own: the rendered target world's.
    rendered = pd.read_csv(work / "data/synthetic/annotations.csv")
    root = work / "data/myclips"
    root.mkdir()
    with open(root / "annotations.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "split"])
        for k, row in enumerate(rendered[rendered["label"].isin(list(RENAMED))].itertuples()):
            rel = f"clips/{RENAMED[row.label].lower()}/{k:03d}.mp4"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(work / "data/synthetic" / row.path, root / rel)
            writer.writerow([rel, RENAMED[row.label], ("train", "val", "test")[k % 3]])  # a target scores them all
    (root / "classes.txt").write_text("".join(f"{name}\n" for name in RENAMED.values()))

    targets = ["results/e2e_synthetic/myclips_0_50.json", "results/e2e_synthetic/myclips_0_100.json",
               "semantic/glove50/synthkinetics_minus_myclips.tsv", "semantic/glove50/myclips_minus_synthkinetics.tsv"]
    planned = planned_jobs(snakemake(work, "-n", *targets, command=command))
    assert "train_model" not in planned and "render_synthetic" not in planned, planned
    started = time.monotonic()
    snakemake(work, *targets, command=command)
    print(f"myclips through the DAG in {time.monotonic() - started:.0f} s")

    classes = list(RENAMED.values())
    half = json.loads((work / targets[0]).read_text())
    assert half["target"] == "myclips" and half["n_splits"] == 3 and half["unseen_classes_per_split"] == 3
    assert half["videos_scored"] == 14 and half["videos_not_scored"] == []  # 7 classes x 2 videos, every split
    for split in half["splits"]:
        assert set(split["e2e"]["per_class_top1"]) < set(classes) and split["n_videos"] == 3 * 2
    full = json.loads((work / targets[1]).read_text())
    assert full["n_splits"] == 1 and set(full["splits"][0]["e2e"]["per_class_top1"]) == set(classes)
    index = pd.read_parquet(work / "index/myclips.parquet")
    assert index["decodable"].all() and set(index["video_id"]) == {
        p[: -len(".mp4")].replace("/", "__") for p in pd.read_csv(root / "annotations.csv")["path"]}
    # The overlap filter reads the user's class names, the dataset a target or a source.
    for table, removed in ((targets[2], {"wheel spinning": "Wheel_spinning"}),
                           (targets[3], {"Wheel_spinning": "wheel spinning"})):
        overlap = pd.read_csv(work / table, sep="\t")
        assert dict(overlap.loc[~overlap["kept"], ["source_class", "nearest_target_class"]].values) == removed, table

    # Edit the class list (a class renamed here and in the annotations): its embedding, splits and
    # results follow, and the model is not retrained.
    (root / "classes.txt").write_text((root / "classes.txt").read_text().replace("Rolling wheel", "Wheel rolling"))
    (root / "annotations.csv").write_text((root / "annotations.csv").read_text().replace(",Rolling wheel,",
                                                                                          ",Wheel rolling,"))
    planned = planned_jobs(snakemake(work, "-n", *targets, command=command))
    assert {"embed_classes", "make_splits", "score_splits"} <= set(planned) and "train_model" not in planned, planned
