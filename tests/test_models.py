import pytest
import torch

from zsar.data.sampling import clip_indices, uniform_clip_starts
from zsar.methods.e2e.model import create_e2e_model

TINY = {"widths": [4, 8], "layers": [1, 1]}


def test_e2e_output_is_unit_length_and_clips_are_averaged():
    torch.manual_seed(0)
    model = create_e2e_model("r2plus1d", embed_dim=50, dropout=0.0, **TINY).eval()
    clips = torch.randn(2, 3, 3, 4, 28, 28)  # 2 videos x 3 clips
    with torch.no_grad():
        per_clip = model(clips.flatten(0, 1))
        per_video = model(clips)
    assert per_clip.shape == (6, 50) and per_video.shape == (2, 50)
    assert torch.allclose(per_clip.norm(dim=1), torch.ones(6), atol=1e-5)
    assert torch.allclose(per_video, per_clip.view(2, 3, 50).mean(dim=1), atol=1e-6)


def test_r2plus1d_18_has_the_papers_shape():
    model = create_e2e_model("r2plus1d", embed_dim=300)
    assert model.backbone.out_dim == 512
    # The (2+1)D factorisation keeps the parameter count of R3D-18, about 33M (Tran et al. 2018).
    assert 32.5e6 < sum(p.numel() for p in model.backbone.parameters()) < 34e6


def test_a_few_steps_lower_the_regression_loss():
    torch.manual_seed(0)
    model = create_e2e_model("r2plus1d", embed_dim=8, dropout=0.0, **TINY)
    clips, targets = torch.randn(8, 3, 4, 28, 28), torch.nn.functional.normalize(torch.randn(8, 8), dim=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        loss = (model(clips) - targets).pow(2).sum(dim=1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_test_clips_span_the_video_and_short_videos_loop():
    assert uniform_clip_starts(n_frames=41, length=8, stride=2, n_clips=3).tolist() == [0, 13, 26]
    assert clip_indices(0, length=4, stride=2, n_frames=5).tolist() == [0, 2, 4, 1]


def test_sampling_presets_are_the_papers_and_run_keys_override_them():
    from zsar.data.sampling import resolve_sampling
    from zsar.methods import SAMPLING_PRESETS

    assert resolve_sampling({}, "e2e", SAMPLING_PRESETS) == {"frames": 16, "stride": 1, "crop": 112, "test_clips": 25}
    assert [resolve_sampling({"preset": p}, "e2e", SAMPLING_PRESETS)["frames"] for p in ("rest18", "rest34", "rest101")] == [16, 8, 4]
    assert resolve_sampling({"preset": "rest18"}, "e2e", SAMPLING_PRESETS)["stride"] == 6 and resolve_sampling({"preset": "rest18"}, "e2e", SAMPLING_PRESETS)["crop"] == 224
    assert resolve_sampling({"preset": "e2e", "test_clips": 5}, "e2e", SAMPLING_PRESETS)["test_clips"] == 5


def test_e2e_takes_c3d_with_its_papers_shape_by_default():
    from zsar.methods import resolve
    from zsar.methods.e2e.model import create_e2e_model
    from zsar.models.backbones import C3D

    cfg, _ = resolve("e2e", {"arch": "c3d"}, {})
    assert (cfg["widths"], cfg["layers"], cfg["fc"]) == ([64, 128, 256, 512, 512], [1, 1, 2, 2, 2], 4096)
    plain = create_e2e_model(embed_dim=50, **{**cfg, "widths": [4, 8, 8, 16, 16], "fc": 32, "batch_norm": False})
    assert not any(isinstance(m, torch.nn.BatchNorm3d) for m in plain.modules())
    model = create_e2e_model(embed_dim=50, **{**cfg, "widths": [4, 8, 8, 16, 16], "fc": 32})
    assert isinstance(model.backbone, C3D)
    convs = [m for m in model.backbone.modules() if isinstance(m, torch.nn.Conv3d)]
    assert len(convs) == 8 and all(c.kernel_size == (3, 3, 3) for c in convs)  # C3D: eight 3x3x3 convolutions
    out = model(torch.randn(2, 3, 8, 56, 56))
    assert out.shape == (2, 50) and torch.allclose(out.norm(dim=1), torch.ones(2))
    with pytest.raises(ValueError, match="applies to arch c3d only"):
        resolve("e2e", {"fc": 256}, {})
    assert "fc" not in resolve("e2e", {}, {})[0]  # an R(2+1)D run's settings are unchanged
