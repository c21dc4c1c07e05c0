import numpy as np
import pytest

from zsar.manifest import ManifestError, class_names, load_manifest
from zsar.semantics import (ClassEmbedding, OutOfVocabularyError, class_tokens, embed_class_names,
                            filter_overlap, load_word_vectors)


def unit(*rows):
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_overlap_filter_removes_source_classes_closer_than_tau():
    angle = np.arccos(1 - 0.05)  # a pair exactly at distance tau is kept
    source = ClassEmbedding(["near", "at_tau", "far"], [[]] * 3,
                            unit([1, 0.01], [np.cos(angle), np.sin(angle)], [0, 1]))
    target = ClassEmbedding(["t"], [[]], unit([1, 0]))
    table = filter_overlap(source, {"tgt": target}, tau=0.05)
    assert table["kept"].tolist() == [False, True, True]
    assert table["nearest_target_class"].tolist() == ["t", "t", "t"]
    assert table["nearest_target_dataset"].tolist() == ["tgt"] * 3
    assert table["distance"].iloc[1] == pytest.approx(0.05, abs=1e-6)


def test_overlap_filter_takes_the_nearest_class_over_all_targets():
    source = ClassEmbedding(["s"], [[]], unit([1, 0.2]))
    targets = {"a": ClassEmbedding(["a1"], [[]], unit([0, 1])),
               "b": ClassEmbedding(["b1"], [[]], unit([1, 0.25]))}
    row = filter_overlap(source, targets, tau=0.05).iloc[0]
    assert (row["nearest_target_dataset"], row["nearest_target_class"]) == ("b", "b1")
    assert not row["kept"]


def test_class_names_are_lower_cased_and_lemmatised():
    assert class_tokens("Ball Falling") == ["ball", "fall"]
    assert class_tokens("spinning wheels") == ["spin", "wheel"]
    assert class_tokens("YoYo", {"YoYo": ["yoyo"]}) == ["yoyo"]


@pytest.fixture(scope="module")
def glove():
    return load_word_vectors("glove-kumo")


def test_class_vector_is_the_normalised_mean_of_unit_word_vectors(glove):
    emb = embed_class_names(["ball falling"], glove)
    ball, fall = glove["ball"] / np.linalg.norm(glove["ball"]), glove["fall"] / np.linalg.norm(glove["fall"])
    expected = (ball + fall) / np.linalg.norm(ball + fall)
    assert emb.tokens == [["ball", "fall"]]
    assert np.allclose(emb.vectors[0], expected, atol=1e-6)


def test_an_unknown_word_names_the_class_the_word_and_the_manifest(glove):
    with pytest.raises(OutOfVocabularyError) as error:
        embed_class_names(["ball zzqxfalling"], glove, manifest_path="data_manifest/x.yaml")
    message = str(error.value)
    assert "ball zzqxfalling" in message and "'zzqxfalling'" in message and "data_manifest/x.yaml" in message


def test_the_synthetic_world_removes_exactly_its_two_near_duplicates(glove):
    embed = {d: embed_class_names(class_names(load_manifest(d)), glove) for d in ("synthkinetics", "synthetic")}
    table = filter_overlap(embed["synthkinetics"], {"synthetic": embed["synthetic"]}, tau=0.05)
    removed = table[~table["kept"]]
    assert dict(zip(removed["source_class"], removed["nearest_target_class"])) == {
        "ball falling": "ball falling down", "wheel spinning": "spinning wheels"}
    assert table["kept"].sum() == 28


def test_duplicate_and_empty_class_names_are_errors(tmp_path):
    (tmp_path / "dup.yaml").write_text("name: D\nkind: rendered\nlayout: x\nclasses: [a b, c d, a b]\n")
    with pytest.raises(ManifestError, match=r"class #3 'a b' is listed twice"):
        class_names(load_manifest("dup", tmp_path))
    (tmp_path / "empty.yaml").write_text("name: E\nkind: rendered\nlayout: x\nclasses: [a b, ' ']\n")
    with pytest.raises(ManifestError, match="class #2 has an empty name"):
        class_names(load_manifest("empty", tmp_path))


def test_an_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ManifestError, match="no manifest for dataset 'nope'.*synthetic"):
        load_manifest("nope")
