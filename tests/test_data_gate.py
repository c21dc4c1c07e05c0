"""The data gate refuses an index that would train on next to nothing, saying why from what is on disk."""

import pandas as pd
import pytest
from test_layouts import KINETICS, kinetics_annotations, mp4

from zsar.data.gate import check_data
from zsar.data.index import INDEX_COLUMNS, index_videos
from zsar.data.layouts import read_layout

MANIFEST = {**KINETICS, "name": "Kinetics-700", "id": "kinetics700", "_path": "/repo/data_manifest/kinetics700.yaml"}
CLASSES = ["abseiling", "air drumming", "archery"]
THRESHOLDS = {"min_decodable": 0.5, "min_videos_per_class": 2}


def kinetics_copy(root, folders):
    """Two videos per class of CLASSES, written under train/<folders[class]>/."""
    rows = [(label, f"{label[:3]}{k:08d}") for label in CLASSES for k in range(2)]
    kinetics_annotations(root, rows)
    for label, youtube_id in rows:
        mp4(root / f"train/{folders[label]}/{youtube_id}_000000_000010.mp4", n=4)
    return index_videos(read_layout(MANIFEST, root), root, n_shards=1)


def test_a_healthy_index_passes(tmp_path):
    index = kinetics_copy(tmp_path, {"abseiling": "abseiling", "air drumming": "air_drumming", "archery": "Archery"})
    assert check_data(index, CLASSES, manifest=MANIFEST, root=tmp_path, split="train", **THRESHOLDS) is None
    # The split used is what counts: val lists no video here.
    message = check_data(index, CLASSES, manifest=MANIFEST, root=tmp_path, split="val", **THRESHOLDS)
    assert "list 0 videos" in message and "annotations list no video of these classes" in message


def test_folders_named_with_other_words_are_named_with_their_closest_class(tmp_path):
    index = kinetics_copy(tmp_path, {"abseiling": "abseil", "air drumming": "air_drums", "archery": "archery"})
    message = check_data(index, CLASSES, manifest=MANIFEST, root=tmp_path, split="train", **THRESHOLDS)
    assert message.startswith(f"Kinetics-700 ({tmp_path}) is not usable: split 'train' of its 3 classes list "
                              "6 videos, 2 of them decodable (33%; data_gate.min_decodable asks for 50%).")
    assert "Not decodable: missing file 4." in message
    assert ("2 of 3 classes have fewer than 2 decodable videos (data_gate.min_videos_per_class): "
            "'abseiling' (0), 'air drumming' (0).") in message
    assert f"4 of 6 videos are not found under {tmp_path}" in message
    assert ("2 of the 3 folders under train/ match no class: the label folders look like 'abseil' (closest class: "
            "'abseiling'), 'air_drums' (closest class: 'air drumming')") in message
    assert "data_gate.min_videos_per_class in config.yaml" in message


def index_of(rows):
    """An index table from (path, label, problem) rows; an empty problem is a decodable video."""
    table = pd.DataFrame(rows, columns=["path", "label", "problem"])
    return table.assign(video_id=table["path"], split="train", shard=0, frames=8, fps=8.0, height=32, width=32,
                        decodable=table["problem"] == "", bytes=1, mtime_ns=1)[INDEX_COLUMNS]


def test_files_with_an_extension_the_manifest_does_not_list_are_named(tmp_path):
    rows = []
    for label in CLASSES:
        for k in range(3):
            (tmp_path / f"train/{label}").mkdir(parents=True, exist_ok=True)
            (tmp_path / f"train/{label}/{label[:3]}{k}.avi").write_bytes(b"")
            rows.append((f"train/{label}/{label[:3]}{k}.mp4", label, "missing file"))
    message = check_data(index_of(rows), CLASSES, manifest=MANIFEST, root=tmp_path, split=None, **THRESHOLDS)
    assert ("9 videos are missing from folders that exist, which hold 9 .avi files; data_manifest/kinetics700.yaml "
            "lists .mp4, .webm, .mkv (video_extensions)") in message
    assert "3 of 3 classes have fewer than 2" in message


@pytest.mark.parametrize("decoder", ["decord", "pyav", "torchcodec"])
def test_decoder_failures_give_their_most_common_message(tmp_path, decoder):
    rows = [(f"train/archery/v{k}.webm", "archery", f"{decoder}: Error sending packet in v.webm") for k in range(3)]
    rows += [(f"train/archery/ok{k}.mp4", "archery", "") for k in range(2)]
    message = check_data(index_of(rows), ["archery"], manifest=MANIFEST, root=tmp_path, split="train", **THRESHOLDS)
    assert "5 videos, 2 of them decodable (40%" in message
    assert ("3 videos fail to decode (by extension: .webm 3); the most common message (3): "
            f"'{decoder}: Error sending packet in v.webm'") in message
    assert "classes have fewer" not in message


def test_a_partial_copy_and_renamed_files_are_told_apart(tmp_path):
    rows = []
    for k in range(4):  # archery: half its videos there, the other half never downloaded
        (tmp_path / "train/archery").mkdir(parents=True, exist_ok=True)
        if k < 2:
            (tmp_path / f"train/archery/a{k}_000000_000010.mp4").write_bytes(b"")
        rows.append((f"train/archery/a{k}_000000_000010.mp4", "archery", "" if k < 2 else "missing file"))
    message = check_data(index_of(rows), ["archery"], manifest=MANIFEST, root=tmp_path, split="train",
                         min_decodable=0.8, min_videos_per_class=2)
    assert ("2 videos are missing from folders that hold only other listed videos (or nothing): "
            "a partial copy") in message
    (tmp_path / "train/archery/a2.mp4").write_bytes(b"")  # named without its segment
    message = check_data(index_of(rows), ["archery"], manifest=MANIFEST, root=tmp_path, split="train",
                         min_decodable=0.8, min_videos_per_class=2)
    assert ("the folders of the missing videos hold 1 videos no annotation names, like 'a2.mp4' (the annotations "
            "name e.g. 'a2_000000_000010.mp4')") in message
