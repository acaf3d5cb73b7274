"""The limited-data recipe: differentiable augmentation and the R1 penalty, on tiny models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan.augment import (
    EQ_RANGE,
    PITCH_BINS,
    augment,
    cutout,
    eq,
    gain,
    parse_policy,
    pitch,
    shift,
    slide,
)
from gan.data import PatchSampler
from gan.losses import r1_penalty
from gan.state import GanState
from gan.train import train, train_step
from tests.test_gan_model import TINY, one_thread, synthetic_clips, tiny_config  # noqa: F401


def patches(n: int = 3) -> torch.Tensor:
    return torch.rand(n, 1, 128, 128, generator=torch.Generator().manual_seed(1)) * 2 - 1


def test_shift_rolls_each_patch_in_time_and_keeps_its_content() -> None:
    x = patches()
    moved = shift(x, torch.Generator().manual_seed(0))
    assert moved.shape == x.shape
    for before, after in zip(x, moved, strict=True):
        rolls = [k for k in range(-16, 17) if torch.equal(torch.roll(before, k, dims=-1), after)]
        assert rolls  # a circular shift of at most 1/8 of the frames
    assert torch.allclose(moved.sort(dim=-1).values, x.sort(dim=-1).values)


def test_slide_moves_each_patch_in_time_and_fills_the_gap_with_silence_not_a_wrap() -> None:
    x = patches(8)
    moved = slide(x, torch.Generator().manual_seed(0))
    offsets = set()
    for before, after in zip(x[:, 0], moved[:, 0], strict=True):
        found = [k for k in range(-16, 17)
                 if torch.equal(after[:, max(k, 0) : 128 + min(k, 0)],
                                before[:, max(-k, 0) : 128 - max(k, 0)])]  # fmt: skip
        assert len(found) == 1  # one move of at most 1/8 of the frames
        k = found[0]
        offsets.add(k)
        gap = after[:, :k] if k > 0 else after[:, 128 + k :]
        assert (gap == -1).all()  # silence where a roll would have put the other end
    assert len(offsets) > 1  # each patch draws its own move
    assert "slide" in parse_policy("slide,cutout")


def test_cutout_blanks_one_band_of_frames_and_one_of_bins_to_the_floor() -> None:
    x = torch.zeros(2, 1, 128, 128)
    cut = cutout(x, torch.Generator().manual_seed(0))
    for patch in cut[:, 0]:
        silent_frames = (patch == -1).all(dim=0).sum()
        silent_bins = (patch == -1).all(dim=1).sum()
        assert silent_frames == 32 and silent_bins == 16
        assert ((patch == 0) | (patch == -1)).all()


def test_gain_moves_a_whole_patch_by_one_small_offset() -> None:
    x = patches()
    lifted = gain(x, torch.Generator().manual_seed(0))
    offsets = (lifted - x).flatten(1)
    assert torch.allclose(offsets, offsets[:, :1].expand_as(offsets), atol=1e-6)
    assert offsets.abs().max() <= 0.15 + 1e-6


def test_pitch_moves_each_patch_along_the_mel_axis_without_wrapping_round() -> None:
    x = patches(8)
    moved = pitch(x, torch.Generator().manual_seed(0))
    offsets = set()
    for before, after in zip(x[:, 0], moved[:, 0], strict=True):
        found = [k for k in range(-PITCH_BINS, PITCH_BINS + 1)
                 if torch.equal(after[max(k, 0) : 128 + min(k, 0)],
                                before[max(-k, 0) : 128 - max(k, 0)])]  # fmt: skip
        assert len(found) == 1  # one move of at most PITCH_BINS bins
        k = found[0]
        offsets.add(k)
        # the gap is filled with the edge bin the patch moved away from, not wrapped round
        gap = after[:k] if k > 0 else after[128 + k :]
        edge = before[0] if k > 0 else before[-1]
        assert torch.equal(gap, edge.expand_as(gap))
    assert len(offsets) > 1  # each patch draws its own move
    assert torch.equal(moved[:, :, :, :5], pitch(x[:, :, :, :5], torch.Generator().manual_seed(0)))


def test_eq_bends_each_patch_s_spectrum_by_one_smooth_curve_the_same_in_every_frame() -> None:
    x = patches(8)
    bent = eq(x, torch.Generator().manual_seed(0))
    curves = (bent - x)[:, 0]  # [patch, bin, frame]
    assert torch.allclose(curves, curves[:, :, :1].expand_as(curves), atol=1e-6)  # every frame
    curves = curves[:, :, 0]
    assert curves.abs().max() <= EQ_RANGE + 1e-6
    assert (curves.diff(dim=1).abs().max() < 2 * EQ_RANGE / 30).item()  # smooth: no bin jumps
    assert (curves.std(dim=1) > 0.01).all()  # each patch is reshaped, not just moved in level
    assert not torch.allclose(curves[0], curves[1])  # each patch draws its own curve
    assert torch.equal(bent[:, :, :, :5], eq(x[:, :, :, :5], torch.Generator().manual_seed(0)))


def test_augmentation_is_differentiable_so_the_generator_learns_through_it() -> None:
    x = patches().requires_grad_(True)
    policy = parse_policy("shift,slide,cutout,gain,pitch,eq")
    out = augment(x, policy, torch.Generator().manual_seed(0))
    out.sum().backward()
    assert x.grad is not None and (x.grad == 0).any() and (x.grad == 1).any()  # cut vs kept


def test_unknown_augmentations_and_bad_r1_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown augmentation"):
        tiny_config(augment="shift,flip")
    with pytest.raises(ValueError, match="R1"):
        tiny_config(r1_gamma=-1.0)
    assert parse_policy("") == ()


def test_r1_penalises_the_gradient_on_real_patches_and_scales_with_gamma() -> None:
    state = GanState.fresh(tiny_config())
    real, genres = PatchSampler(synthetic_clips()).sample(4, state.data_rng)
    assert r1_penalty(state.discriminator, real, genres, gamma=1.0).item() > 0
    assert r1_penalty(state.discriminator, real, genres, gamma=0.0).item() == 0


def test_a_training_step_with_the_recipe_is_finite_and_resumes_exactly(tmp_path: Path) -> None:
    recipe = {"augment": "shift,cutout,gain", "r1_gamma": 1.0, "r1_every": 2}
    state = GanState.fresh(tiny_config(**recipe))
    sampler = PatchSampler(synthetic_clips())
    losses = train_step(state, *sampler.sample(4, state.data_rng))
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    straight = train(sampler, tmp_path / "a", tiny_config(steps=4, **recipe), progress=False)
    train(sampler, tmp_path / "b", tiny_config(steps=2, checkpoint_every=1, **recipe),
          progress=False)  # fmt: skip
    # Asked for another augmentation on resume: the run keeps its own, and says so.
    said: list[str] = []
    asked = tiny_config(steps=4, **{**recipe, "augment": "shift"})
    resumed = train(sampler, tmp_path / "b", asked, progress=False, say=said.append)
    assert resumed.state.config.augment == "shift,cutout,gain"
    assert any("not --augment shift (the run has 'shift,cutout,gain')" in line for line in said)
    for a, b in zip(straight.state.generator.parameters(),
                    resumed.state.generator.parameters(), strict=True):  # fmt: skip
        assert torch.equal(a, b)


def test_resuming_reports_only_the_settings_asked_for_that_the_run_will_not_follow() -> None:
    from gan.config import LEGACY_RECIPE, TrainConfig, ignored_on_resume

    stored = TrainConfig.from_dict({"steps": 100})  # an old run: stored without the recipe
    assert {k: getattr(stored, k) for k in LEGACY_RECIPE} == LEGACY_RECIPE
    # A page run resumes with the defaults: it never asked for the recipe, nothing to report.
    assert ignored_on_resume(TrainConfig(steps=200), stored) == []
    asked = TrainConfig(steps=200, lr_g=1e-4, snapshot_every=50)  # the step budget may change
    assert ignored_on_resume(asked, stored) == ["--lr-g 0.0001 (the run has 0.0002)"]
