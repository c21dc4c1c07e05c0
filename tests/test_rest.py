"""The ResT model: its modality mask, the masking rate, shapes per preset, and that it learns."""

import pytest
import torch

from zsar.methods.rest import ResNet2d, create_rest, mask_words, modality_mask


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
