import numpy as np
import pytest

from zsar.data.manifest import ManifestError, class_names, load_manifest
from zsar.zeroshot.scoring import ProtocolError, check_unseen
from zsar.semantics.embedding import (ClassEmbedding, OutOfVocabularyError, class_words, embed_classes, filter_overlap,
                            load_sentence_model, load_word_vectors, normalise_name, verb_forms)

BENCHMARKS = ("ucf101", "hmdb51", "activitynet", "kinetics400", "kinetics600", "kinetics700", "kineticszsar")
GLOVE = {"kind": "glove-kumo"}


def unit(*rows):
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def glove():
    return load_word_vectors("glove-kumo")


@pytest.fixture(scope="module")
def embedded(glove):
    return {d: embed_classes(load_manifest(d), GLOVE, glove) for d in BENCHMARKS}


# --- the filter on hand-made vectors --------------------------------------------------------------

def test_overlap_filter_removes_source_classes_closer_than_tau():
    angle = np.arccos(1 - 0.05)  # a pair exactly at distance tau is kept
    source = ClassEmbedding(["near", "at_tau", "far"], [[]] * 3,
                            unit([1, 0.01], [np.cos(angle), np.sin(angle)], [0, 1]))
    target = ClassEmbedding(["t"], [[]], unit([1, 0]))
    table = filter_overlap(source, {"tgt": target}, tau=0.05)
    assert table["kept"].tolist() == [False, True, True]
    assert table["nearest_target_class"].tolist() == ["t", "t", "t"]
    assert table["distance"].iloc[1] == pytest.approx(0.05, abs=1e-6)


def test_overlap_filter_takes_the_nearest_class_over_all_targets():
    source = ClassEmbedding(["s"], [[]], unit([1, 0.2]))
    targets = {"a": ClassEmbedding(["a1"], [[]], unit([0, 1])),
               "b": ClassEmbedding(["b1"], [[]], unit([1, 0.25]))}
    row = filter_overlap(source, targets, tau=0.05).iloc[0]
    assert (row["nearest_target_dataset"], row["nearest_target_class"], row["kept"]) == ("b", "b1", False)


# --- names as the datasets write them -------------------------------------------------------------

@pytest.mark.parametrize("dataset, name, words", [
    ("ucf101", "ApplyEyeMakeup", ["apply", "eye", "makeup"]),
    ("ucf101", "YoYo", ["yoyo"]),                                  # E2E's replacement
    ("ucf101", "Skijet", ["jetski"]),                              # E2E's "Skyjet", then zsar's GloVe word
    ("hmdb51", "brush_hair", ["brush", "hair"]),
    ("hmdb51", "situp", ["sit", "up"]),
    ("activitynet", "Blow-drying hair", ["dry", "hair"]),
    ("activitynet", "Having an ice cream", ["having", "ice", "cream"]),  # stop word "an" dropped
    ("kinetics700", "hugging (not baby)", ["hugging"]),
    ("kinetics700", "curling (sport)", ["curling", "sport"]),
    ("kinetics700", "massaging person's head", ["massaging", "person", "head"]),
    ("kinetics700", "passing American football (not in game)", ["pass", "american", "football", "park"]),
])
def test_class_names_become_words(dataset, name, words):
    manifest = load_manifest(dataset)
    assert name in class_names(manifest)
    assert class_words(name, manifest) == words


def test_name_styles():
    assert normalise_name("PlayingDaf", "camelcase") == ["playing", "daf"]
    assert normalise_name("skiing (not slalom or crosscountry)", "kinetics") == ["skiing"]
    assert normalise_name("fall_floor", "plain") == ["fall", "floor"]
    with pytest.raises(ValueError, match="unknown name_style"):
        normalise_name("x", "snake")


def test_verb_forms_come_from_the_lemma_table():
    assert verb_forms(["riding", "bike"]) == ("ride", "riding")
    assert verb_forms(["apply", "eye", "makeup"]) == ("apply", "applying")
    assert verb_forms(["archery"]) is None


# --- the real class lists -------------------------------------------------------------------------

def test_every_benchmark_has_its_published_class_count(embedded):
    counts = {d: len(e.names) for d, e in embedded.items()}
    assert counts == {"ucf101": 101, "hmdb51": 51, "activitynet": 200, "kinetics400": 400,
                      "kinetics600": 600, "kinetics700": 700, "kineticszsar": 220}
    assert all(np.allclose(np.linalg.norm(e.vectors, axis=1), 1, atol=1e-5) for e in embedded.values())


def test_kinetics_zsar_splits_partition_the_220_new_classes():
    manifest = load_manifest("kineticszsar")
    new = set(class_names(manifest))
    assert not new & set(class_names(load_manifest("kinetics400")))
    assert new <= set(class_names(load_manifest("kinetics600")))
    assert len(manifest["protocol_splits"]) == 3
    for split in manifest["protocol_splits"]:
        assert len(split["val"]) == 60 and len(split["test"]) == 160
        assert set(split["val"]) | set(split["test"]) == new and not set(split["val"]) & set(split["test"])


def test_kinetics700_minus_ucf101_hmdb51_with_glove(embedded):
    table = filter_overlap(embedded["kinetics700"], {d: embedded[d] for d in ("ucf101", "hmdb51")}, tau=0.05)
    # The papers report 664 with Word2Vec; GloVe 6B 50-d keeps 654.
    assert int(table["kept"].sum()) == 654
    removed = table[~table["kept"]].set_index("source_class")
    assert removed.loc["archery", "nearest_target_class"] == "Archery"
    assert removed.loc["brushing hair", "nearest_target_class"] == "brush_hair"
    assert (removed["distance"] < 0.05).all() and (table.loc[table["kept"], "distance"] >= 0.05).all()


def test_kinetics700_minus_ucf101_hmdb51_activitynet_with_glove(embedded):
    targets = {d: embedded[d] for d in ("ucf101", "hmdb51", "activitynet")}
    table = filter_overlap(embedded["kinetics700"], targets, tau=0.05)
    assert int(table["kept"].sum()) == 571  # the papers: 605 with Word2Vec
    assert set(table.loc[~table["kept"], "nearest_target_dataset"]) == {"ucf101", "hmdb51", "activitynet"}


def test_minilm_embeds_whole_phrases_offline():
    model = load_sentence_model()
    e = {d: embed_classes(load_manifest(d), {"kind": "minilm"}, model) for d in ("kinetics700", "ucf101", "hmdb51")}
    assert e["ucf101"].vectors.shape == (101, 384)
    assert e["ucf101"].tokens[0] == ["apply eye makeup"]
    table = filter_overlap(e["kinetics700"], {"ucf101": e["ucf101"], "hmdb51": e["hmdb51"]}, tau=0.05)
    assert int(table["kept"].sum()) == 674


def test_verb_forms_augment_the_words(glove):
    manifest = {"name_style": "kinetics", "classes": ["riding bike"], "_path": "m.yaml"}
    e = embed_classes(manifest, {"kind": "glove-kumo", "augment": "verb_forms"}, glove)
    assert e.tokens == [["ride", "bike", "riding"]]


# --- errors ---------------------------------------------------------------------------------------

def test_an_unknown_word_names_the_class_the_word_and_the_manifest(glove):
    manifest = {"name_style": "plain", "classes": ["ball zzqxfalling"], "_path": "data_manifest/x.yaml"}
    with pytest.raises(OutOfVocabularyError) as error:
        embed_classes(manifest, GLOVE, glove)
    message = str(error.value)
    assert "'ball zzqxfalling'" in message and "'zzqxfalling'" in message and "data_manifest/x.yaml" in message


def test_a_class_of_stop_words_only_is_an_error(glove):
    manifest = {"name_style": "plain", "stopwords": ["the", "of"], "classes": ["the of"], "_path": "m.yaml"}
    with pytest.raises(ValueError, match="'the of' in m.yaml has no words left"):
        embed_classes(manifest, GLOVE, glove)


def test_duplicate_and_empty_class_names_are_errors(tmp_path):
    (tmp_path / "dup.yaml").write_text("name: D\nkind: rendered\nlayout: x\nclasses: [a b, c d, a b]\n")
    with pytest.raises(ManifestError, match=r"class #3 'a b' is listed twice"):
        class_names(load_manifest("dup", tmp_path))
    (tmp_path / "empty.yaml").write_text("name: E\nkind: rendered\nlayout: x\nclasses: [a b, ' ']\n")
    with pytest.raises(ManifestError, match="class #2 has an empty name"):
        class_names(load_manifest("empty", tmp_path))
    (tmp_path / "case.yaml").write_text("name: C\nkind: rendered\nlayout: x\nclasses: [Basketball, Archery, basketball]\n")
    with pytest.raises(ManifestError, match=r"class #3 'basketball' and class #1 'Basketball' differ only in case"):
        class_names(load_manifest("case", tmp_path))


def test_a_missing_word2vec_file_says_which_config_key_to_set():
    with pytest.raises(FileNotFoundError, match="embeddings.<name>.path"):
        load_word_vectors("word2vec", "/nonexistent/GoogleNews.bin")


def test_word2vec_files_load_by_path(tmp_path, glove):
    from gensim.models import KeyedVectors

    small = KeyedVectors(vector_size=50)
    words = ["ball", "fall", "box", "spin"]
    small.add_vectors(words, np.stack([glove[w] for w in words]))
    small.save_word2vec_format(str(tmp_path / "vectors.bin"), binary=True)
    manifest = {"name_style": "plain", "classes": ["ball falling", "box spinning"], "_path": "m.yaml"}
    e = embed_classes(manifest, {"kind": "word2vec", "path": str(tmp_path / "vectors.bin")})
    assert np.allclose(e.vectors, embed_classes(manifest, GLOVE, glove).vectors, atol=1e-6)


def test_the_synthetic_world_removes_exactly_its_two_near_duplicates(glove):
    embed = {d: embed_classes(load_manifest(d), GLOVE, glove) for d in ("synthkinetics", "synthetic")}
    table = filter_overlap(embed["synthkinetics"], {"synthetic": embed["synthetic"]}, tau=0.05)
    removed = table[~table["kept"]]
    assert dict(zip(removed["source_class"], removed["nearest_target_class"])) == {
        "ball falling": "ball falling down", "wheel spinning": "spinning wheels"}


def test_scoring_refuses_a_target_close_to_a_trained_class():
    trained = ClassEmbedding(["ball falling", "box spinning"], [[]] * 2, unit([1, 0], [0, 1]))
    target = ClassEmbedding(["falling balls", "ring orbiting"], [[]] * 2, unit([1, 0.05], [1, 1]))
    with pytest.raises(ProtocolError, match=r"'falling balls' ~ trained 'ball falling'"):
        check_unseen(trained, target, tau=0.05, target_name="synthetic")
    check_unseen(trained, target, tau=0.001, target_name="synthetic")  # nothing that close: no error


def test_an_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ManifestError, match="no manifest for dataset 'nope'.*ucf101"):
        load_manifest("nope")


def test_unreadable_manifests_and_vector_files_are_named(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: B\nkind: rendered\nclasses: [a, b\nlayout: x\n")
    with pytest.raises(ManifestError, match=r"bad.yaml line \d+, column \d+: not valid YAML"):
        load_manifest("bad", tmp_path)
    (tmp_path / "vectors.bin").write_bytes(b"3 50\nball \x00\x01")
    with pytest.raises(ValueError, match=r"vectors.bin: cannot be read as a binary word2vec file"):
        load_word_vectors("word2vec", str(tmp_path / "vectors.bin"))


def test_vectors_of_picks_rows_in_order_and_names_an_unknown_class():
    emb = ClassEmbedding(["a", "b", "c"], [[]] * 3, np.eye(3, dtype=np.float32))
    assert emb.vectors_of(["c", "a"]).tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(KeyError, match=r"\['zz'\] are not in this class embedding"):
        emb.vectors_of(["a", "zz"])
