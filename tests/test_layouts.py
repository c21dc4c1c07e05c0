"""The official layouts of the real datasets, and broken videos, on small files made here."""

import json
import re
import shutil

import av
import numpy as np
import pandas as pd
import pytest

from zsar.data.index import assign_shards, decoder_message, index_videos, shard_stamps
from zsar.data.layouts import (LayoutError, label_key, read_activitynet, read_hmdb51, read_kinetics, read_layout,
                          read_ucf101, video_extensions)
from zsar.data.manifest import MANIFEST_DIR, class_names, load_manifest
from zsar.data.synthetic import render_frames, write_mp4

KINETICS = {"_path": "kinetics700.yaml", "layout_kind": "kinetics", "video_extensions": [".mp4", ".webm", ".mkv"]}
HEADER = "label,youtube_id,time_start,time_end,split\n"


def frames(n=8, size=32):
    return render_frames("ball", "falling", n, size, np.random.default_rng(0))


def write_avi(path, n=8):
    """MPEG-4 Part 2 in AVI, the codec of UCF101 and HMDB51."""
    write_video(path, "mpeg4", None, n, rate=25)


def mp4(path, n=8):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mp4(path, frames(n), 8)


def write_video(path, codec, container_format, n=8, rate=8):
    """A video in any container PyAV writes: VP8 in WebM, H.264 in Matroska (what YouTube
    downloaders write); container_format None: from the file's extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for array in frames(n):
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def kinetics_annotations(root, train, val=()):
    """annotations/{train,val}.csv from (label, youtube_id) pairs, each a 10 s segment from 0."""
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    for side, rows in (("train", train), ("val", val)):
        (root / f"annotations/{side}.csv").write_text(
            HEADER + "".join(f"\"{label}\",{youtube_id},0,10,{side}\n" for label, youtube_id in rows))


def test_ucf101_lists_both_sides_of_split_1_and_reports_a_missing_clip(tmp_path):
    lists = tmp_path / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 HandstandPushups\n")
    (lists / "trainlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n"
                                           "HandstandPushups/v_HandStandPushups_g08_c01.avi 2\n")
    (lists / "testlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n")
    write_avi(tmp_path / "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi")
    write_avi(tmp_path / "UCF-101/HandstandPushups/v_HandStandPushups_g08_c01.avi")
    table = read_ucf101(tmp_path)
    assert table.set_index("video_id")["split"].to_dict() == {
        "v_ApplyEyeMakeup_g08_c01": "train", "v_HandStandPushups_g08_c01": "train", "v_ApplyEyeMakeup_g01_c01": "test"}
    assert set(table["label"]) == {"ApplyEyeMakeup", "HandstandPushups"}
    index = index_videos(table, tmp_path, n_shards=1, min_frames=4).set_index("video_id")
    assert index["decodable"].to_dict() == {"v_ApplyEyeMakeup_g01_c01": False, "v_ApplyEyeMakeup_g08_c01": True,
                                           "v_HandStandPushups_g08_c01": True}
    assert index.loc["v_ApplyEyeMakeup_g01_c01", "problem"] == "missing file"
    assert index.loc["v_ApplyEyeMakeup_g08_c01", "frames"] == 8


def test_ucf101_names_the_line_of_a_bad_list_entry(tmp_path):
    lists = tmp_path / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\n")
    (lists / "trainlist01.txt").write_text("ApplyEyeMakeup/a.avi 1\nArchery/b.avi 2\n")
    (lists / "testlist01.txt").write_text("")
    with pytest.raises(LayoutError, match=r"trainlist01.txt line 2: class folder 'Archery'"):
        read_ucf101(tmp_path)


def test_hmdb51_reads_the_7030_split_files(tmp_path):
    folder = tmp_path / "testTrainMulti_7030_splits"
    folder.mkdir()
    (folder / "brush_hair_test_split1.txt").write_text("a.avi 1\nb.avi 2\nc.avi 0\n")
    (folder / "brush_hair_test_split2.txt").write_text("a.avi 2\n")
    table = read_hmdb51(tmp_path)
    assert table.drop(columns=["file", "line"]).to_dict(orient="records") == [
        {"video_id": "a", "path": "videos/brush_hair/a.avi", "label": "brush_hair", "split": "train"},
        {"video_id": "b", "path": "videos/brush_hair/b.avi", "label": "brush_hair", "split": "test"},
        {"video_id": "c", "path": "videos/brush_hair/c.avi", "label": "brush_hair", "split": "unused"}]
    (folder / "brush_hair_test_split1.txt").write_text("a.avi 7\n")
    with pytest.raises(LayoutError, match=r"brush_hair_test_split1.txt line 1"):
        read_hmdb51(tmp_path)


def test_kinetics_paths_come_from_the_csv_segments(tmp_path):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations/train.csv").write_text(
        "label,youtube_id,time_start,time_end,split\nabseiling,-3B32lodo2M,59,69,train\n")
    (tmp_path / "annotations/val.csv").write_text(
        "label,youtube_id,time_start,time_end,split\ncurling (sport),0123456789a,5,15,val\n")
    table = read_kinetics(tmp_path)
    assert table["path"].tolist() == ["train/abseiling/-3B32lodo2M_000059_000069.mp4",
                                      "val/curling (sport)/0123456789a_000005_000015.mp4"]
    assert table["split"].tolist() == ["train", "val"]


def test_activitynet_finds_each_videos_extension_and_skips_the_unlabelled_test_subset(tmp_path):
    database = {
        "aaa": {"subset": "training", "annotations": [{"label": "Ping-pong", "segment": [1.0, 5.0]}]},
        "bbb": {"subset": "validation", "annotations": [{"label": "Archery", "segment": [0.0, 2.0]}]},
        "ccc": {"subset": "testing", "annotations": []},
    }
    (tmp_path / "activity_net.v1-3.min.json").write_text(json.dumps({"database": database}))
    mp4(tmp_path / "videos/v_bbb.mkv")
    table = read_activitynet(tmp_path).set_index("video_id")
    assert table["path"].to_dict() == {"v_aaa": "videos/v_aaa.mp4", "v_bbb": "videos/v_bbb.mkv"}
    assert table["label"].to_dict() == {"v_aaa": "Ping-pong", "v_bbb": "Archery"}


def test_broken_videos_are_reported_in_the_index_and_the_rest_indexed(tmp_path, backend):
    videos = tmp_path / "v"
    mp4(videos / "good.mp4")
    write_avi(videos / "good_avi.avi")
    mp4(videos / "short.mp4", n=3)
    shutil.copy(videos / "good.mp4", videos / "mp4_named.avi")        # wrong extension, right content
    (videos / "image.mp4").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))  # not a video at all
    data = (videos / "good.mp4").read_bytes()
    (videos / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (videos / "codec.mp4").write_bytes(data.replace(b"avc1", b"zzzz"))  # a codec no decoder knows
    at = data.find(b"stco")  # the index of where each chunk of frames lies, overwritten
    (videos / "broken_index.mp4").write_bytes(data[: at + 12] + b"\xff" * 48 + data[at + 60:])
    with av.open(str(videos / "empty.mp4"), mode="w") as container:     # a container with no frame
        stream = container.add_stream("libx264", rate=8)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        container.start_encoding()
    (videos / "zero.mp4").write_bytes(b"")
    (videos / "html.mp4").write_text("<html><body>404 Not Found</body></html>\n")
    (videos / "folder.mp4").mkdir()
    names = ["good", "good_avi", "short", "mp4_named", "image", "truncated", "codec", "broken_index", "empty", "zero",
             "html", "folder"]
    ext = {"good_avi": "avi", "mp4_named": "avi"}

    table = pd.DataFrame({"video_id": names, "path": [f"v/{n}.{ext.get(n, 'mp4')}" for n in names],
                          "label": "x", "split": "test"})
    index = index_videos(table, tmp_path, n_shards=2, min_frames=4, backend=backend, workers=2).set_index("video_id")
    assert index["decodable"].to_dict() == {"codec": False, "empty": False, "good": True, "good_avi": True,
                                           "image": False, "mp4_named": True, "short": True, "truncated": False,
                                           "zero": False, "html": False, "folder": False, "broken_index": False}
    # Files no decoder should try get a message of their own, with what to do.
    assert index.loc["zero", "problem"] == "empty file (0 bytes): an interrupted download or copy? fetch it again"
    assert index.loc["html", "problem"] == ("a text file, not a video (it starts '<html><body>404 Not Found</body>"
                                            "</html>'): a failed download's error page? fetch it again")
    assert index.loc["folder", "problem"] == "a folder, not a video file"
    assert index.loc["short", "problem"] == "shorter than one clip: 3 < 4 frames (clips loop)"
    for name in ("codec", "empty", "image", "truncated", "broken_index"):
        problem = index.loc[name, "problem"]
        assert problem.startswith(f"{backend}: ") and "missing" not in problem, (name, problem)
        assert not re.search(r"\d\d:\d\d:\d\d|/github/|\.cpp|Errno", problem), problem  # no clock time, no build path
    assert index.loc[["good", "good_avi", "mp4_named"], "problem"].eq("").all()


def test_a_video_listed_twice_is_refused_naming_its_files_and_lines(tmp_path):
    (tmp_path / "annotations").mkdir()
    header = "label,youtube_id,time_start,time_end,split\n"
    (tmp_path / "annotations/train.csv").write_text(
        header + "abseiling,-3B32lodo2M,59,69,train\nabseiling,zzzzzzzzzzz,1,11,train\n")
    (tmp_path / "annotations/val.csv").write_text(header + "abseiling,-3B32lodo2M,59,69,val\n")
    manifest = {"_path": "kinetics700.yaml", "layout_kind": "kinetics"}
    with pytest.raises(LayoutError) as error:
        read_layout(manifest, tmp_path)
    message = str(error.value)
    assert "1 video(s) are listed more than once" in message
    assert (f"video '-3B32lodo2M_000059_000069': {tmp_path}/annotations/train.csv line 2 and "
            f"{tmp_path}/annotations/val.csv line 2") in message

    lists = tmp_path / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "classInd.txt").write_text("1 Archery\n")
    (lists / "trainlist01.txt").write_text("Archery/v_Archery_g01_c01.avi 1\n")
    (lists / "testlist01.txt").write_text("Archery/v_Archery_g02_c01.avi\nArchery/v_Archery_g01_c01.avi\n")
    with pytest.raises(LayoutError, match=r"'v_Archery_g01_c01': \S*trainlist01.txt line 1 and \S*testlist01.txt line 2"):
        read_layout({"_path": "ucf101.yaml", "layout_kind": "ucf101"}, tmp_path)


def test_a_video_overwritten_in_place_changes_its_shards_stamp_only(tmp_path):
    names = [f"v{k}" for k in range(6)]
    for name in names:
        mp4(tmp_path / f"videos/{name}.mp4")
    table = assign_shards(pd.DataFrame({"video_id": names, "path": [f"videos/{n}.mp4" for n in names],
                                        "label": "x", "split": "train"}), 3)
    before = shard_stamps(table, tmp_path)
    assert sorted(before) == [0, 1, 2] and shard_stamps(table, tmp_path) == before
    changed = table.loc[table["video_id"] == "v4"].iloc[0]
    mp4(tmp_path / changed["path"], n=9)  # same name, new content
    after = shard_stamps(table, tmp_path)
    assert [s for s in before if before[s] != after[s]] == [changed["shard"]]
    moved = table.assign(split=np.where(table["video_id"] == "v4", "test", table["split"]))  # an annotation edit
    assert [s for s, d in shard_stamps(moved, tmp_path).items() if d != after[s]] == [changed["shard"]]
    (tmp_path / "videos/v0.mp4").unlink()  # a video that disappears counts too
    assert shard_stamps(table, tmp_path)[0] != after[0]
    index = index_videos(table, tmp_path, 3, shard=int(changed["shard"]))
    row = index.set_index("video_id").loc["v4"]
    stat = (tmp_path / changed["path"]).stat()
    assert (row["bytes"], row["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns)
    assert set(index["shard"]) == {changed["shard"]}


def test_decord_messages_lose_every_clock_time_and_source_prefix(tmp_path):
    nested = RuntimeError(
        "[12:03:44] /github/workspace/src/video/video_reader.cc:151: [12:03:45] "
        "/github/workspace/src/video/ffmpeg/threaded_decoder.cc:292: Check failed: avcodec_send_packet(x) >= 0 "
        f"(-1094995529 vs. 0) Error sending packet in {tmp_path}/v/bad.mp4")
    assert decoder_message(nested, tmp_path / "v/bad.mp4") == "Error sending packet in bad.mp4"


def test_kinetics_label_folders_written_with_underscores_index_as_decodable(tmp_path):
    labels = {"air drumming": "air_drumming",
              "passing American football (in game)": "passing_American_football_(in_game)",
              "tying knot (not on a tie)": "Tying-Knot-not-on-a-tie",  # parentheses dropped, hyphens
              "massaging person's head": "massaging_persons_head"}  # quote dropped
    kinetics_annotations(tmp_path, [(label, f"id{k:09d}") for k, label in enumerate(labels)])
    for k, folder in enumerate(labels.values()):
        mp4(tmp_path / f"train/{folder}/id{k:09d}_000000_000010.mp4")
    table = read_layout(KINETICS, tmp_path)
    assert table["path"].tolist() == [f"train/{folder}/id{k:09d}_000000_000010.mp4"
                                      for k, folder in enumerate(labels.values())]
    assert table["label"].tolist() == list(labels)  # the label as the annotations write it
    index = index_videos(table, tmp_path, n_shards=1)
    assert index["decodable"].all(), index["problem"].tolist()


def test_two_folders_standing_for_one_label_are_refused_naming_both(tmp_path):
    kinetics_annotations(tmp_path, [("air drumming", "a" * 11)])
    (tmp_path / "train/air drumming").mkdir(parents=True)
    (tmp_path / "train/Air_Drumming").mkdir()
    with pytest.raises(LayoutError, match=r"folders 'Air_Drumming' and 'air drumming' both stand for label"):
        read_layout(KINETICS, tmp_path)


def test_every_manifests_class_names_keep_distinct_label_keys_and_kinetics_lists_its_extensions():
    for path in sorted(MANIFEST_DIR.glob("*.yaml")):
        manifest = load_manifest(path.stem)
        if "classes_file" in manifest:  # a user's own dataset: its class list lies with its videos
            continue
        keys = [label_key(name) for name in class_names(manifest)]
        assert len(set(keys)) == len(keys), path
        if manifest.get("layout_kind") == "kinetics":  # a class list (synthnames) has no layout
            assert video_extensions(manifest) == (".mp4", ".webm", ".mkv"), path
    assert label_key("passing_American_football_(in_game)") == label_key("passing American football (in game)")


def test_webm_and_mkv_videos_are_found_and_the_manifests_order_picks_between_two_files(tmp_path):
    kinetics_annotations(tmp_path, [("abseiling", "webm0000000"), ("abseiling", "mkv00000000"),
                                    ("abseiling", "both0000000"), ("abseiling", "gone0000000")])
    folder = tmp_path / "train/abseiling"
    write_video(folder / "webm0000000_000000_000010.webm", "libvpx", "webm")
    write_video(folder / "mkv00000000_000000_000010.mkv", "libx264", "matroska")
    mp4(folder / "both0000000_000000_000010.mp4")
    write_video(folder / "both0000000_000000_000010.webm", "libvpx", "webm")
    (folder / "gone0000000_000000_000010.avi").write_bytes(b"")  # an extension the manifest does not list
    table = read_layout(KINETICS, tmp_path)
    assert table["path"].tolist() == ["train/abseiling/webm0000000_000000_000010.webm",
                                      "train/abseiling/mkv00000000_000000_000010.mkv",
                                      "train/abseiling/both0000000_000000_000010.mp4",
                                      "train/abseiling/gone0000000_000000_000010.mp4"]
    index = index_videos(table, tmp_path, n_shards=1).set_index("video_id")
    assert index["problem"].to_dict() == {
        "both0000000_000000_000010": "", "gone0000000_000000_000010": "missing file",
        "mkv00000000_000000_000010": "", "webm0000000_000000_000010": ""}
    webm_first = read_layout({**KINETICS, "video_extensions": [".webm", ".mp4"]}, tmp_path)
    assert webm_first["path"][2] == "train/abseiling/both0000000_000000_000010.webm"


def test_activitynet_takes_its_extensions_from_the_manifest(tmp_path):
    database = {"aaa": {"subset": "training", "annotations": [{"label": "Archery", "segment": [0.0, 1.0]}]}}
    (tmp_path / "activity_net.v1-3.min.json").write_text(json.dumps({"database": database}))
    for ext in ("mkv", "webm", "avi"):
        (tmp_path / "videos").mkdir(exist_ok=True)
        (tmp_path / f"videos/v_aaa.{ext}").write_bytes(b"")
    manifest = {"_path": "activitynet.yaml", "layout_kind": "activitynet"}
    assert read_layout({**manifest, "video_extensions": [".webm", ".mkv"]}, tmp_path)["path"][0] == "videos/v_aaa.webm"
    assert read_layout({**manifest, "video_extensions": [".mp4"]}, tmp_path)["path"][0] == "videos/v_aaa.mp4"


def test_a_symlinked_train_folder_on_another_disk_indexes(tmp_path):
    root, other_disk = tmp_path / "kinetics700", tmp_path / "other_disk"
    kinetics_annotations(root, [("abseiling", "a" * 11)])
    mp4(other_disk / "train/abseiling/aaaaaaaaaaa_000000_000010.mp4")
    (root / "train").symlink_to(other_disk / "train", target_is_directory=True)
    index = index_videos(read_layout(KINETICS, root), root, n_shards=1)
    assert index["problem"].tolist() == [""] and index["decodable"].all()
    assert index["path"].tolist() == ["train/abseiling/aaaaaaaaaaa_000000_000010.mp4"]


def test_annotation_paths_that_are_absolute_or_go_up_are_refused_even_when_they_land_inside(tmp_path):
    root = tmp_path / "data"
    mp4(root / "videos/x.mp4")
    mp4(tmp_path / "outside.mp4")
    paths = {"up_and_back": "videos/../videos/x.mp4", "absolute": str(root / "videos/x.mp4"),
             "outside": "../outside.mp4", "fine": "videos/x.mp4"}
    table = pd.DataFrame({"video_id": list(paths), "path": list(paths.values()), "label": "x", "split": "test"})
    index = index_videos(table, root, n_shards=1).set_index("video_id")
    assert index["problem"].to_dict() == {
        "absolute": f"path leaves the dataset root: {root / 'videos/x.mp4'}", "fine": "",
        "outside": "path leaves the dataset root: ../outside.mp4",
        "up_and_back": "path leaves the dataset root: videos/../videos/x.mp4"}


def test_a_header_only_annotation_file_lists_no_video(tmp_path):
    kinetics_annotations(tmp_path, [("abseiling", "a" * 11)], val=[])
    assert read_layout(KINETICS, tmp_path)["split"].tolist() == ["train"]


def test_a_kinetics_side_neither_required_nor_on_disk_is_not_listed(tmp_path):
    """Kinetics-ZSAR scores Kinetics-600's val videos; a copy without train/ lists only val."""
    from zsar.data.layouts import read_layout

    (tmp_path / "annotations").mkdir()
    for side in ("train", "val"):
        (tmp_path / "annotations" / f"{side}.csv").write_text(
            f"label,youtube_id,time_start,time_end,split\nabseiling,{side}id,0,10,{side}\n")
    (tmp_path / "val").mkdir()
    manifest = {"layout_kind": "kinetics", "required": ["annotations/train.csv", "annotations/val.csv", "val"],
                "_path": "m.yaml", "video_extensions": [".mp4"]}
    assert read_layout(manifest, tmp_path)["split"].tolist() == ["val"]
    (tmp_path / "train").mkdir()
    assert read_layout(manifest, tmp_path)["split"].tolist() == ["train", "val"]
