"""The text encoder's top layers rebuilt in plain torch (zsar.semantics.text_encoder, JigsawNet's model.text_layers)."""

import numpy as np
import pandas as pd
import pytest
import torch

from zsar.semantics.embedding import embed_phrases, load_sentence_model
from zsar.semantics.text_encoder import EncoderTop, cut_encoder, mean_pooled, read_phrase_states, write_phrase_states

SPEC = {"kind": "minilm"}
# Of several lengths, so that padding and its mask matter; one phrase twice (two classes share it).
PHRASES = ["drop ball", "descend rock face with a doubled rope", "clap hand", "drop ball", "fall to bottom"]


@pytest.fixture(scope="module")
def encoder():
    return load_sentence_model(SPEC)


@pytest.mark.parametrize("layers", [1, 2, 6])
def test_the_pretrained_top_layers_give_the_frozen_encoders_sentence_embeddings(encoder, layers):
    cut = cut_encoder(PHRASES, SPEC, layers, encoder)
    assert cut["states"].shape[:2] == cut["mask"].shape and cut["mask"].sum(axis=1).min() < cut["mask"].shape[1]
    top = EncoderTop.from_weights(cut["config"], cut["weights"]).eval()
    with torch.no_grad():
        ours = top(torch.from_numpy(cut["states"]), torch.from_numpy(cut["mask"])).numpy()
    assert np.allclose(ours, embed_phrases(PHRASES, SPEC, encoder), atol=1e-5)


def test_more_layers_than_the_encoder_has_is_an_error(encoder):
    with pytest.raises(ValueError, match=r"model.text_layers is 7, but the text encoder has 6 layers"):
        cut_encoder(PHRASES, SPEC, 7, encoder)


def test_states_of_other_phrases_are_refused(encoder, tmp_path):
    table = pd.DataFrame({"class": ["a", "b", "c", "d", "e"], "phrase": PHRASES})
    write_phrase_states(tmp_path / "top1.h5", table, cut_encoder(PHRASES, SPEC, 1, encoder), "minilm", SPEC)
    states = read_phrase_states(tmp_path / "top1.h5", {"class": table["class"].tolist(), "phrase": PHRASES})
    assert states["config"]["layers"] == 1 and len(states["states"]) == 5
    with pytest.raises(ValueError, match="other phrases than the phrases file"):
        read_phrase_states(tmp_path / "top1.h5", {"class": table["class"].tolist(), "phrase": PHRASES[::-1]})


def test_only_a_mean_pooled_encoder_can_have_its_top_layers_rebuilt(encoder):
    class Pooling:  # as sentence-transformers names the module
        def __init__(self, mode):
            self.pooling_mode = mode

    assert mean_pooled(encoder)  # all-MiniLM-L6-v2
    assert not mean_pooled([object(), Pooling("cls")]) and not mean_pooled([object()])
    assert mean_pooled([object(), Pooling("mean")])
