"""The ResT model: its modality mask, the masking rate, shapes per preset, and that it learns."""

import pytest
import torch

from zsar.methods.rest.model import ResNet2d, create_rest, mask_words, modality_mask


def test_the_mask_is_the_one_rest_specifies():
    allowed = modality_mask(n_frames=2, n_words=3).int().tolist()
    #            CLS f1 f2 w1 w2 w3
    assert allowed == [[1, 1, 1, 0, 0, 0],   # CLS: visual tokens only
                       [1, 1, 1, 0, 0, 0],   # frames: never a word
                       [1, 1, 1, 0, 0, 0],
                       [1, 1, 1, 1, 0, 0],   # words: every frame, and words on their left
                       [1, 1, 1, 1, 1, 0],
                       [1, 1, 1, 1, 1, 1]]


def tiny(**kw):
    torch.manual_seed(0)
    return create_rest("tiny", vocab_size=20, n_classes=5, dropout=0.0, **kw).eval()


def test_frames_never_see_words_and_words_never_see_later_words():
    model = tiny()
    clips = torch.randn(2, 3, 4, 32, 32)
    words = torch.tensor([[1, 2, 3], [4, 5, 6]])
    changed = words.clone()
    changed[:, 2] = 7  # change the last word only
    with torch.no_grad():
        video, out = model(clips, words)
        video2, out2 = model(clips, changed)
        other, _ = model(clips, torch.tensor([[9, 9, 9], [8, 8, 8]]))
    assert torch.allclose(video, video2, atol=1e-6) and torch.allclose(video, other, atol=1e-6)
    assert torch.allclose(out[:, :2], out2[:, :2], atol=1e-6)  # earlier words unaffected
    assert not torch.allclose(out[:, 2], out2[:, 2], atol=1e-4)
    assert torch.allclose(model.embed(clips), video, atol=1e-6)  # [CLS, frames, MASK]


def test_words_see_the_frames():
    model = tiny()
    words = torch.tensor([[1, 2]])
    with torch.no_grad():
        _, a = model(torch.randn(1, 3, 4, 32, 32), words)
        _, b = model(torch.randn(1, 3, 4, 32, 32), words)
    assert not torch.allclose(a, b, atol=1e-4)


def test_masking_rate_is_15_percent_with_at_least_one_per_name():
    generator = torch.Generator().manual_seed(0)
    pad, mask = 20, 21
    words = torch.randint(0, 20, (4000, 10))
    masked, chosen = mask_words(words, pad, mask, 0.15, generator)
    # Each word with p = 0.15, plus one forced where none was drawn: 0.15 + 0.85**10 / 10 per word.
    assert chosen.float().mean().item() == pytest.approx(0.15 + 0.85**10 / 10, abs=0.006)
    assert (masked[chosen] == mask).all() and (masked[~chosen] == words[~chosen]).all()
    short = torch.tensor([[3, pad, pad]] * 500)  # one-word names: always that word
    _, chosen = mask_words(short, pad, mask, 0.15, generator)
    assert chosen[:, 0].all() and not chosen[:, 1:].any()


@pytest.mark.parametrize("preset, frames, feature_dim", [("rest18", 16, 512), ("rest34", 8, 512), ("rest101", 4, 2048)])
def test_paper_presets_have_their_shapes(preset, frames, feature_dim):
    model = create_rest(preset, vocab_size=50, n_classes=10).eval()
    assert model.frames.out_dim == feature_dim
    assert len(model.transformer.layers) == 12 and model.norm.normalized_shape == (768,)
    with torch.no_grad():  # 64-pixel frames keep the test fast; the ResNet pools globally
        video, words = model(torch.randn(1, 3, frames, 64, 64), torch.tensor([[1, 2, 3]]))
    assert video.shape == (1, 768) and words.shape == (1, 3, 768)


def test_resnet_depths_match_their_parameter_counts():
    # torchvision-style ResNets without the classifier: 11.2M, 21.3M and 42.5M parameters.
    counts = {d: sum(p.numel() for p in ResNet2d(d).parameters()) / 1e6 for d in (18, 34, 101)}
    assert counts[18] == pytest.approx(11.18, abs=0.05)
    assert counts[34] == pytest.approx(21.28, abs=0.05)
    assert counts[101] == pytest.approx(42.50, abs=0.05)


def test_a_few_steps_lower_the_loss():
    model = tiny()
    model.train()
    clips, labels = torch.randn(6, 3, 4, 32, 32), torch.tensor([0, 1, 2, 3, 4, 0])
    words = torch.tensor([[1, 2, 20], [3, 4, 5], [6, 7, 20], [8, 9, 10], [11, 12, 20], [1, 2, 20]])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for step in range(30):
        loss = model.loss(clips, words, labels, generator=torch.Generator().manual_seed(step))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5


# The ablation switches (Tables 3(a)-(c), 4(a), 3(b)): each builds what it names and keeps ResT's rules.

@pytest.mark.parametrize("temporal", ["transformer", "lstm", "gru"])
def test_separate_encoders_keep_the_video_blind_to_words_and_words_causal(temporal):
    model = tiny(attention="cross", temporal=temporal)
    assert not hasattr(model, "transformer") and isinstance(model.text_decoder, torch.nn.TransformerDecoder)
    kind = {"transformer": torch.nn.TransformerEncoder, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[temporal]
    assert isinstance(model.video_encoder, kind)
    clips = torch.randn(2, 3, 4, 32, 32)
    words = torch.tensor([[1, 2, 3], [4, 5, 6]])
    changed = words.clone()
    changed[:, 2] = 7
    with torch.no_grad():
        video, out = model(clips, words)
        video2, out2 = model(clips, changed)
        _, other_clips = model(torch.randn(2, 3, 4, 32, 32), words)
    assert torch.allclose(video, video2, atol=1e-6) and torch.allclose(model.embed(clips), video, atol=1e-6)
    assert torch.allclose(out[:, :2], out2[:, :2], atol=1e-5) and not torch.allclose(out[:, 2], out2[:, 2], atol=1e-4)
    assert not torch.allclose(out, other_clips, atol=1e-4)  # words attend to the video


def test_a_recurrent_temporal_model_needs_separate_encoders():
    with pytest.raises(ValueError, match="temporal 'lstm' needs model.attention: cross"):
        tiny(temporal="lstm")
    with pytest.raises(ValueError, match="attention 'both' is not one of single, cross"):
        tiny(attention="both")


def test_an_r2plus1d_frame_encoder_gives_one_token_per_remaining_time_step():
    from zsar.models.backbones import R2Plus1D

    model = tiny(backbone="r2plus1d")
    assert isinstance(model.frames, R2Plus1D) and model.frames.out_dim == 8 * 8
    assert any(isinstance(m, torch.nn.Conv3d) and m.kernel_size == (3, 1, 1) for m in model.frames.modules())
    clips = torch.randn(2, 3, 16, 32, 32)
    assert model.frame_tokens(clips).shape == (2, 2, 64)  # 16 frames halved by 3 stages
    with torch.no_grad():
        video, words = model(clips, torch.tensor([[1, 2], [3, 20]]))
    assert video.shape == (2, 32) and words.shape == (2, 2, 32)
    with pytest.raises(ValueError, match="R\\(2\\+1\\)D frame encoder has depth 18 or 34, not 101"):
        tiny(backbone="r2plus1d", depth=101)


def test_word_scores_are_the_mean_log_likelihood_of_each_class_name():
    model = tiny()
    clips = torch.randn(3, 3, 4, 32, 32)
    names = torch.tensor([[1, 2, 20], [3, 20, 20], [4, 5, 6]])  # 20 pads
    with torch.no_grad():
        scores = model.word_scores(clips, names)
        _, out = model(clips, torch.full((3, 3), model.mask_id))
        log_p = torch.log_softmax(model.word_head(out), dim=-1)
    assert scores.shape == (3, 3)
    assert torch.allclose(scores[:, 0], (log_p[:, 0, 1] + log_p[:, 1, 2]) / 2, atol=1e-5)
    assert torch.allclose(scores[:, 1], log_p[:, 0, 3], atol=1e-5)
    assert torch.allclose(model.word_scores(clips[:, None].expand(-1, 2, -1, -1, -1, -1), names), scores, atol=1e-5)


def test_the_masked_token_loss_alone_trains_the_word_head_and_leaves_the_classifier():
    model = tiny()
    model.train()
    clips, labels = torch.randn(6, 3, 4, 32, 32), torch.tensor([0, 1, 2, 3, 4, 0])
    names = torch.tensor([[1, 2, 20], [3, 4, 5], [6, 7, 20], [8, 9, 10], [11, 12, 20]])
    classifier = [p.detach().clone() for p in model.classifier.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # no weight decay: untrained weights stay put
    for step in range(60):
        loss = model.loss(clips, names[labels], labels, cls_weight=0.0, generator=torch.Generator().manual_seed(step))
        optimizer.zero_grad()
        loss.backward()
        assert all(p.grad is not None for p in model.parameters() if p is not model.word_embedding.weight)
        optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(classifier, model.classifier.parameters()))
    model.eval()
    with torch.no_grad():
        predicted = model.word_scores(clips, names).argmax(dim=1)
    assert (predicted == labels).float().mean() >= 5 / 6


def test_the_switches_are_config_keys_of_rest_only():
    from zsar.methods import resolve

    model, train = resolve("rest", {"preset": "tiny", "attention": "cross", "temporal": "gru", "backbone": "r2plus1d"},
                           {"cls_weight": 0})
    assert model["attention"] == "cross" and train["cls_weight"] == 0
    assert "cls_weight" not in resolve("rest", {}, {})[1]  # a run that does not ask keeps its settings
    with pytest.raises(ValueError, match="train keys \\['cls_weight'\\] do not apply to method 'e2e'"):
        resolve("e2e", {}, {"cls_weight": 0})
    # Combinations that cannot train are refused when the DAG parses, not hours later in a job.
    with pytest.raises(ValueError, match="temporal 'gru' needs model.attention: cross"):
        resolve("rest", {"temporal": "gru"}, {})
    with pytest.raises(ValueError, match="both 0: nothing to train"):
        resolve("rest", {}, {"cls_weight": 0, "mtl_weight": 0})
