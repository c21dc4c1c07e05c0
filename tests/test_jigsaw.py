"""JigsawNet: group alignment, its one-to-one ablation, the consistency loss and memory, the model."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from zsar.methods.jigsaw.alignment import group_alignment as group_alignment_np
from zsar.methods.jigsaw.model import (
    ConsistencyMemory,
    create_jigsaw,
    group_alignment,
    one_to_one,
    scores,
    split_segments,
)

T = torch.tensor

# Three phrases in 2-D: class 0 has (1, 0); class 1 has (0, 1) and (0.6, 0.8).
PHRASES = T([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
PHRASE_CLASS = T([0, 1, 1])
# Video 0: segments (1, 0) and (0.8, 0.6); video 1: (0, 1) twice.
SEGMENTS = T([[[1.0, 0.0], [0.8, 0.6]],
              [[0.0, 1.0], [0.0, 1.0]]])


def test_group_alignment_is_the_mean_over_segments_of_the_best_phrase_of_the_class():
    got = group_alignment(SEGMENTS, PHRASES, PHRASE_CLASS, 2)
    # Video 0: segment (1, 0) has cosines 1, 0, 0.6; segment (0.8, 0.6) has 0.8, 0.6, 0.48 + 0.48 = 0.96.
    #   class 0: mean(1, 0.8) = 0.9; class 1: mean(max(0, 0.6), max(0.6, 0.96)) = mean(0.6, 0.96) = 0.78
    # Video 1: both segments have cosines 0, 1, 0.8 -> class 0: 0; class 1: 1.
    assert torch.allclose(got, T([[0.9, 0.78], [0.0, 1.0]]), atol=1e-6)
    # The phrases' order does not matter, and gradients reach the segments and the phrases.
    perm = T([2, 0, 1])
    segments, phrases = SEGMENTS.clone().requires_grad_(), PHRASES[perm].clone().requires_grad_()
    shuffled = group_alignment(segments, phrases, PHRASE_CLASS[perm], 2)
    assert torch.allclose(shuffled, got, atol=1e-6)
    shuffled.sum().backward()
    assert segments.grad.abs().sum() > 0 and phrases.grad.abs().sum() > 0
    assert torch.allclose(scores(SEGMENTS, PHRASES, PHRASE_CLASS, 2, "group"), got)


def test_a_class_without_phrases_is_an_error():
    with pytest.raises(ValueError, match=r"classes \[2\] have no phrases"):
        group_alignment(SEGMENTS, PHRASES, PHRASE_CLASS, 3)
    with pytest.raises(ValueError, match="no phrases"):
        group_alignment_np(SEGMENTS.numpy(), PHRASES.numpy(), PHRASE_CLASS.numpy(), 3)
    with pytest.raises(ValueError, match="unknown alignment"):
        scores(SEGMENTS, PHRASES, PHRASE_CLASS, 2, "pairwise")


def test_one_to_one_compares_the_mean_segment_with_the_mean_phrase():
    got = one_to_one(SEGMENTS, PHRASES, PHRASE_CLASS, 2)
    # Video 0: mean segment (0.9, 0.3), norm sqrt(0.9).
    #   class 0: mean phrase (1, 0) -> 0.9 / sqrt(0.9) = sqrt(0.9)
    #   class 1: mean phrase (0.3, 0.9), norm sqrt(0.9) -> (0.27 + 0.27) / 0.9 = 0.6
    # Video 1: mean segment (0, 1) -> class 0: 0; class 1: 0.9 / sqrt(0.9) = sqrt(0.9)
    root = 0.9 ** 0.5
    assert torch.allclose(got, T([[root, 0.6], [0.0, root]]), atol=1e-6)
    assert torch.allclose(scores(SEGMENTS, PHRASES, PHRASE_CLASS, 2, "one_to_one"), got)


def test_numpy_and_torch_group_alignment_agree():
    generator = torch.Generator().manual_seed(0)
    segments = F.normalize(torch.randn(5, 3, 8, generator=generator), dim=-1)
    phrases = F.normalize(torch.randn(9, 8, generator=generator), dim=-1)
    phrase_class = T([3, 0, 1, 3, 2, 0, 1, 1, 2])
    expected = group_alignment(segments, phrases, phrase_class, 4)
    got = group_alignment_np(segments.numpy(), phrases.numpy(), phrase_class.numpy(), 4, chunk=2)
    assert got.shape == (5, 4)
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-5)


# The consistency case, in 3-D. Four atomic actions with phrases e1, e2, e3, (0.6, 0.8, 0);
# class 0 = {0, 1}, class 1 = {1, 2}, class 2 = {3}; atomic 1 is shared, so it appears once per class.
E = torch.eye(3)
C_PHRASES = torch.stack([E[0], E[1], E[1], E[2], T([0.6, 0.8, 0.0])])
C_CLASS = T([0, 0, 1, 1, 2])
C_ATOMIC = T([0, 1, 1, 2, 3])


def memory_with(entries: dict) -> ConsistencyMemory:
    memory = ConsistencyMemory(n_atomic=4, d=3)
    for atomic, (feature, alignment) in entries.items():
        memory.features[atomic] = T(feature)
        memory.alignment[atomic] = alignment
    return memory


def test_consistency_loss_hand_case():
    # M0 = (0.8, 0.6, 0), M1 empty, M2 = (0.6, 0, 0.8), M3 = (0, 0.8, 0.6).
    memory = memory_with({0: ([0.8, 0.6, 0.0], 0.8), 2: ([0.6, 0.0, 0.8], 0.8), 3: ([0.0, 0.8, 0.6], 0.8)})
    segments = T([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],      # video 0: label 0, predicted 0
                  [[0.0, 0.0, 1.0], [0.6, 0.0, 0.8]]]).requires_grad_()  # video 1: label 1, predicted 0
    labels, predicted = T([0, 1]), T([0, 0])
    phrases = C_PHRASES.clone().requires_grad_()
    loss = memory.loss(segments, labels, predicted, phrases, C_CLASS, C_ATOMIC, eps=0.3)
    # v0 s0 (1,0,0): class-0 phrases e1 (cos 1), e2 (0) -> atomic 0; positive cos(s, M0) = 0.8.
    #   negatives: not in predicted class 0 -> {2, 3}: cos 0.6 and 0 -> M2; 0.3 - 0.8 + 0.6 = 0.1
    # v0 s1 (0,1,0): -> atomic 1, whose memory is empty -> no term.
    # v1 s0 (0,0,1): class-1 phrases e2 (0), e3 (1) -> atomic 2; positive cos(s, M2) = 0.8.
    #   negatives: {2, 3} without atomic 2 itself -> M3, cos 0.6; 0.3 - 0.8 + 0.6 = 0.1
    #   (were atomic 2 its own negative, the term would be 0.3.)
    # v1 s1 (0.6,0,0.8): e2 0, e3 0.8 -> atomic 2; positive 1, negative M3 0.48 -> max(0, 0.3 - 1 + 0.48) = 0
    # Loss = (0.1 + 0 + 0.1 + 0) / 4 segments.
    assert loss.item() == pytest.approx(0.05, abs=1e-6)
    loss.backward()
    assert segments.grad.abs().sum() > 0 and phrases.grad is None  # differentiable in the segments only
    # Only the active hinge terms push: v0 s0 by (M2 - M0) / 4 = (-0.05, -0.15, 0.2), less its component
    # along s = (1, 0, 0) (the segments are normalised inside) -> (0, -0.15, 0.2).
    assert torch.allclose(segments.grad[0, 0], T([0.0, -0.15, 0.2]), atol=1e-6)
    assert segments.grad[0, 1].abs().sum() == 0 and segments.grad[1, 1].abs().sum() == 0


def test_empty_memory_entries_contribute_nothing():
    segments = T([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]).requires_grad_()
    args = (segments, T([0]), T([0]), C_PHRASES, C_CLASS, C_ATOMIC)
    assert ConsistencyMemory(4, 3).loss(*args).item() == 0.0  # nothing stored yet
    # A positive is stored but every negative candidate (atomics 2, 3) is empty: still nothing.
    only_positive = memory_with({0: ([1.0, 0.0, 0.0], 1.0), 1: ([0.0, 1.0, 0.0], 1.0)})
    loss = only_positive.loss(*args)
    assert loss.item() == 0.0
    loss.backward()
    assert not torch.isnan(segments.grad).any()


def test_memory_update_keeps_the_best_aligned_feature():
    # Stored: atomic 0 with alignment 0.9, atomic 2 with 0.95; atomics 1 and 3 empty.
    memory = memory_with({0: ([0.8, 0.6, 0.0], 0.9), 2: ([0.6, 0.0, 0.8], 0.95)})
    segments = T([[[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]],   # label 0: atomic 0 (cos 1), atomic 1 (cos 0.8)
                  [[0.8, 0.6, 0.0], [0.0, 1.0, 0.0]],   # label 0: atomic 0 (cos 0.8), atomic 1 (cos 1)
                  [[0.0, 0.6, 0.8], [0.0, 0.6, 0.8]]])  # label 1: atomic 2 (cos 0.8) twice
    memory.update(segments, T([0, 0, 1]), C_PHRASES, C_CLASS, C_ATOMIC)
    # atomic 0: best new 1.0 > 0.9 -> (1, 0, 0); atomic 1: 1.0 beats 0.8 -> (0, 1, 0);
    # atomic 2: 0.8 < 0.95 stays; atomic 3: nothing assigned, stays empty.
    expected = T([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.0, 0.8], [0.0, 0.0, 0.0]])
    assert torch.allclose(memory.features, expected, atol=1e-6)
    assert torch.allclose(memory.alignment, T([1.0, 1.0, 0.95, float("-inf")]))
    assert memory.filled.tolist() == [True, True, True, False]
    # It resumes from a state_dict.
    restored = ConsistencyMemory(4, 3)
    restored.load_state_dict(memory.state_dict())
    assert torch.equal(restored.features, memory.features) and torch.equal(restored.alignment, memory.alignment)


def test_memory_update_breaks_exact_ties_by_batch_order():
    up, down = [0.6, 0.0, 0.8], [0.6, 0.0, -0.8]  # both cos 0.6 with atomic 0's phrase, 0 with atomic 1's
    for first, second in ((up, down), (down, up)):
        memory = ConsistencyMemory(4, 3)
        memory.update(T([[first, second]]), T([0]), C_PHRASES, C_CLASS, C_ATOMIC)
        assert torch.allclose(memory.features[0], T(first)) and memory.alignment[0].item() == pytest.approx(0.6)
        assert not memory.filled[1:].any()
        # An equally aligned feature later does not replace it (strictly better only).
        memory.update(T([[second, second]]), T([0]), C_PHRASES, C_CLASS, C_ATOMIC)
        assert torch.allclose(memory.features[0], T(first))


def tiny(**kw):
    torch.manual_seed(0)
    return create_jigsaw("tiny", n_atomic=6, text_dim=16, dropout=0.0, **kw)


def test_segments_split_evenly_and_embed_has_its_shapes():
    with pytest.raises(ValueError, match=r"T=5 .* m=2"):
        split_segments(torch.zeros(1, 3, 5, 8, 8), 2)
    clips = torch.arange(2 * 3 * 4).float().view(2, 3, 4, 1, 1)
    parts = split_segments(clips, 2)
    assert parts.shape == (4, 3, 2, 1, 1)
    assert torch.equal(parts[1], clips[0, :, 2:4]) and torch.equal(parts[2], clips[1, :, 0:2])
    model = tiny().eval()
    assert model.embed_dim == 2 * 32
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        one = model.embed(x)
        many = model.embed(torch.stack([x, x.flip(2)], dim=1))
        flipped = model.embed(x.flip(2))
    assert one.shape == (2, 64) and many.shape == (2, 64)
    assert torch.allclose(one.view(2, 2, 32).norm(dim=-1), torch.ones(2, 2), atol=1e-5)
    assert torch.allclose(many, (one + flipped) / 2, atol=1e-5)
    with pytest.raises(ValueError, match=r"T=6 .* m=4"):
        create_jigsaw("tiny", n_atomic=2, segments=4).embed(torch.zeros(1, 3, 6, 32, 32))


def test_ge_off_is_the_projected_backbone_and_on_changes_it():
    x = torch.randn(2, 3, 4, 32, 32)
    plain = tiny(ge=False).eval()
    with torch.no_grad():
        projected = plain.project(plain.backbone(split_segments(x, 2))).view(2, 2, 32)
        assert torch.allclose(plain.segment_features(x), F.normalize(projected, dim=-1), atol=1e-6)
        excited = tiny(ge=True).eval()
        before = F.normalize(excited.projected_segments(x), dim=-1)
        assert not torch.allclose(excited.segment_features(x), before, atol=1e-3)
    assert not any(isinstance(m, torch.nn.MultiheadAttention) for m in plain.modules())


@pytest.mark.parametrize("alignment", ["group", "one_to_one"])
def test_a_few_sgd_steps_decrease_the_loss(alignment):
    model = tiny().train()
    generator = torch.Generator().manual_seed(1)
    clips = torch.randn(6, 3, 4, 32, 32, generator=generator)
    labels = T([0, 1, 2, 0, 1, 2])
    text = torch.randn(6, 16, generator=generator)   # one embedding per atomic action
    phrase_atomic = T([0, 1, 1, 2, 3, 4, 5])           # class 0 = {0, 1}, 1 = {1, 2, 3}, 2 = {4, 5}
    phrase_class = T([0, 0, 1, 1, 1, 2, 2])
    phrase_embeddings = text[phrase_atomic]

    def ce():
        with torch.no_grad():
            segments = model.segment_features(clips)
            logits = scores(segments, model.project_phrases(phrase_embeddings), phrase_class, 3, alignment)
            return F.cross_entropy(logits / 0.05, labels).item()

    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    start = ce()
    losses = []
    for _ in range(6):
        optimizer.zero_grad()
        loss = model.loss(clips, labels, phrase_embeddings, phrase_class, phrase_atomic,
                          temperature=0.05, alignment=alignment, consistency_weight=1.0, eps=0.3)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all()
    assert ce() < 0.5 * start and losses[-1] < 0.5 * losses[0], (start, ce(), losses)
    assert model.memory.filled.any()  # training filled the memory, which the state_dict carries
    assert {"memory.features", "memory.alignment"} <= set(model.state_dict())


def test_the_ablation_switches_change_the_loss_as_they_say():
    """consistency_weight 0 leaves the cross-entropy of the alignment scores alone; one_to_one scores
    by the mean segment and mean phrase instead of the best phrase per segment."""
    torch.manual_seed(0)
    model = create_jigsaw("tiny", n_atomic=3, text_dim=6, widths=[4, 8], layers=[1, 1], d=8).eval()
    clips, labels = torch.randn(2, 3, 4, 16, 16), torch.tensor([0, 1])
    phrase_embeddings = torch.randn(3, 6)
    phrase_class, phrase_atomic = torch.tensor([0, 0, 1]), torch.tensor([0, 1, 2])
    with torch.no_grad():
        segments = model.segment_features(clips)
        phrases = model.project_phrases(phrase_embeddings)
        for alignment, by in (("group", group_alignment), ("one_to_one", one_to_one)):
            ce = F.cross_entropy(by(segments, phrases, phrase_class, 2) / 0.05, labels)
            loss = model.loss(clips, labels, phrase_embeddings, phrase_class, phrase_atomic, alignment=alignment,
                              consistency_weight=0, n_classes=2)
            assert torch.isclose(loss, ce)
        group = group_alignment(segments, phrases, phrase_class, 2)
        assert not torch.allclose(group, one_to_one(segments, phrases, phrase_class, 2))


def test_numpy_one_to_one_matches_torch():
    from zsar.methods.jigsaw.alignment import one_to_one as one_to_one_np

    torch.manual_seed(1)
    segments, phrases, phrase_class = torch.randn(4, 3, 5), torch.randn(6, 5), torch.tensor([0, 1, 1, 2, 2, 2])
    expected = one_to_one(segments, phrases, phrase_class, 3).numpy()
    assert np.allclose(one_to_one_np(segments.numpy(), phrases.numpy(), phrase_class.numpy(), 3), expected, atol=1e-6)


def test_phrases_chosen_counts_the_distinct_own_class_phrases_a_videos_segments_pick():
    from zsar.methods.jigsaw.alignment import phrases_chosen

    # Class 0 has phrases (1, 0) and (0, 1); class 1 has (-1, 0), which no segment of a class-0 video
    # may pick even when it is nearer.
    phrases, phrase_class = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]), [0, 0, 1]
    both = [1.0, 0.1, 0.1, 1.0]      # segment 1 near (1, 0), segment 2 near (0, 1)
    same = [1.0, 0.2, 1.0, -0.1]     # both near (1, 0)
    foreign = [-1.0, 0.2, 0.9, 0.1]  # segment 1 nearest (-1, 0) of class 1, then (0, 1) of its own
    chosen = phrases_chosen(np.array([both, same, foreign]), phrases, phrase_class, [0, 0, 0])
    assert chosen.tolist() == [2, 1, 2]


# The object branch (model.objects): a video's object vector is one more token of GE, scored like a
# segment of its own and added as max(score, 0).

def with_objects(ge=True):
    torch.manual_seed(0)
    return create_jigsaw("tiny", n_atomic=3, text_dim=6, widths=[4, 8], layers=[1, 1], d=8, dropout=0.0,
                         ge=ge, objects=True).eval()


def test_a_video_without_objects_is_scored_by_its_segments_alone():
    model = with_objects()
    clips = torch.randn(2, 3, 4, 16, 16)
    objects, present = torch.randn(2, 6), torch.tensor([True, False])
    with torch.no_grad():
        segments, obj = model.features(clips, objects, present)
        # An absent object is masked out of GE: another vector changes nothing of that video.
        again, obj_again = model.features(clips, objects * 3 + 1, present)
        assert torch.allclose(segments[1], again[1], atol=1e-6) and not torch.allclose(segments[0], again[0])
        assert torch.equal(obj[1], torch.zeros(8)) and torch.allclose(obj[0].norm(), torch.tensor(1.0))
        assert model.embed(clips, objects, present).shape == (2, 3 * 8) and model.embed_dim == 24
    with pytest.raises(ValueError, match="trained with objects"):
        model.embed(clips)


@pytest.mark.parametrize("ge", [True, False])
def test_the_object_score_adds_its_positive_part_and_trains_with_three_cross_entropies(ge):
    model = with_objects(ge)
    clips, labels = torch.randn(3, 3, 4, 16, 16), torch.tensor([0, 1, 1])
    objects, present = torch.randn(3, 6), torch.tensor([True, True, False])
    phrase_embeddings, phrase_class, phrase_atomic = torch.randn(3, 6), torch.tensor([0, 0, 1]), torch.tensor([0, 1, 2])
    with torch.no_grad():
        segments, obj = model.features(clips, objects, present)
        phrases = model.project_phrases(phrase_embeddings)
        seg = group_alignment(segments, phrases, phrase_class, 2)
        # the object feature's best cosine with each class's phrases, written out
        cos = obj @ phrases.T
        own = torch.stack([cos[:, :2].max(dim=1).values, cos[:, 2]], dim=1) * present[:, None]
        full = seg + own.clamp(min=0)
        expected = (F.cross_entropy(seg / 0.05, labels) + F.cross_entropy(full / 0.05, labels)
                    + F.cross_entropy(own[:2] / 0.05, labels[:2]))
        loss = model.loss(clips, labels, phrase_embeddings, phrase_class, phrase_atomic, objects, present,
                          consistency_weight=0, n_classes=2)
        assert torch.isclose(loss, expected)
        from zsar.methods.jigsaw.alignment import alignment_scores

        stored = model.embed(clips, objects, present).numpy()
        assert np.allclose(alignment_scores(stored, phrases.numpy(), phrase_class.numpy(), 2, "group", objects=True),
                           full.numpy(), atol=1e-5)
