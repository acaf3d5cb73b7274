"""Spectral negatives: real patches with their fine frequency detail smeared or replaced by
structureless noise, judged as fake."""

from __future__ import annotations

import pytest
import torch

from gan.data import ClipMel
from gan.negatives import BLUR_MELS, blur_mels, freeze_detail, retexture, spectral_negatives
from tests.test_gan_model import one_thread, synthetic_clips  # noqa: F401
from tests.test_gan_negatives import trained_tiny


def patches(n: int = 6) -> torch.Tensor:
    return torch.rand(n, 1, 128, 64, generator=torch.Generator().manual_seed(1)) * 2 - 1


def neighbour_steps(x: torch.Tensor) -> torch.Tensor:
    """Mean size of the step from one mel bin to the next: the fine frequency detail."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean()


def test_the_blur_averages_neighbouring_mel_bins_and_keeps_the_broad_shape() -> None:
    x = patches()
    blurred = blur_mels(x)
    assert blurred.shape == x.shape
    middle = x[..., 40 - BLUR_MELS // 2 : 40 + BLUR_MELS // 2 + 1, :].mean(-2)
    assert torch.allclose(blurred[..., 40, :], middle, atol=1e-6)
    assert torch.allclose(blurred[..., 0, :], (2 * x[..., 0, :] + x[..., 1, :]) / 3, atol=1e-6)
    assert neighbour_steps(blurred) < 0.5 * neighbour_steps(x)
    # a spectrum that is already smooth along frequency (a straight slope) is left as it is
    slope = torch.linspace(-1, 1, 128).view(1, 1, 128, 1).expand(2, 1, 128, 8)
    assert torch.allclose(blur_mels(slope)[..., 1:-1, :], slope[..., 1:-1, :], atol=1e-6)


def test_retextured_patches_have_detail_of_the_same_size_but_not_the_same_detail() -> None:
    x = patches()
    x[0] *= 0.1  # a patch with little detail gets little noise
    out = retexture(x, torch.Generator().manual_seed(0))
    for before, after in zip(x, out, strict=True):
        removed = (before - blur_mels(before)).std()
        added = (after - blur_mels(before)).std()
        assert added == pytest.approx(removed.item(), rel=0.05)
        assert torch.corrcoef(torch.stack([before.flatten(), after.flatten()]))[0, 1] < 0.7
    assert (out[0] - blur_mels(x[0])).std() < 0.2 * (out[1] - blur_mels(x[1])).std()


def test_frozen_detail_holds_the_patch_s_average_partials_in_every_frame() -> None:
    x = patches()
    frozen = freeze_detail(x)
    detail = frozen - blur_mels(x)
    assert torch.allclose(detail, detail[..., :1].expand_as(detail), atol=1e-6)  # never changes
    # the same partials on average, and the same level in every mel bin over the patch
    assert torch.allclose(frozen.mean(-1), x.mean(-1), atol=1e-5)
    assert not torch.allclose(frozen, x)


def test_spectral_negatives_are_one_of_three_kinds_each_patch_by_its_own_draw() -> None:
    x = patches(24)
    out = spectral_negatives(x, torch.Generator().manual_seed(0))
    # a patch blurred in the batch and the same patch blurred alone differ by float rounding
    # (about 1e-8 on some CPUs), so both kinds are recognised within 1e-6
    blurred = [torch.allclose(o, blur_mels(p), atol=1e-6) for o, p in zip(out, x, strict=True)]
    frozen = [torch.allclose(o, freeze_detail(p), atol=1e-6) for o, p in zip(out, x, strict=True)]
    assert 0 < sum(blurred) < len(x) and 0 < sum(frozen) < len(x)
    retextured = [not (b or f) for b, f in zip(blurred, frozen, strict=True)]
    assert sum(retextured) > 0
    for o, p, other in zip(out, x, retextured, strict=True):
        if other:  # then retextured: the blur's broad shape, other detail of the same size
            assert not torch.allclose(o, p) and not torch.allclose(o, blur_mels(p))
            assert (o - blur_mels(p)).std() == pytest.approx(
                (p - blur_mels(p)).std().item(), rel=0.1
            )


def partial_clips(frames: int = 300) -> list[ClipMel]:
    """Clips whose sound is a comb of sharp partials (every 4th mel bin) over a quiet floor, one
    bin higher every 16 frames like changing notes: a blur over 3 bins keeps each genre's average
    spectrum and loses only the partials' shape; freezing the detail loses their changes."""
    clips = synthetic_clips(frames)
    note = torch.arange(frames) // 16
    comb = ((torch.arange(128).view(128, 1) + note) % 4 == 0).float() * 0.8
    return [ClipMel(c.genre, c.number, c.path, c.mel * 0.3 + comb) for c in clips]


def scores_after_training(spectral: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The discriminator's scores of real patches, of the same patches blurred and of them with
    their detail frozen, after a tiny run of 200 steps on :func:`partial_clips`."""
    state, sampler = trained_tiny(partial_clips(), spectral_negatives=spectral)
    real, genres = sampler.sample(64, torch.Generator().manual_seed(5))
    d = state.discriminator.eval()
    with torch.no_grad():
        return d(real, genres), d(blur_mels(real), genres), d(freeze_detail(real), genres)


def test_a_discriminator_shown_spectral_negatives_learns_that_a_blur_is_not_music() -> None:
    real, blurred, frozen = scores_after_training(1.0)
    for changed in (blurred, frozen):
        assert changed.mean() < -1.0  # judged fake: beyond the hinge's margin
        assert (real > changed).float().mean() >= 0.95
    # Without them a discriminator meets blur only in the generator's early patches (here it
    # rejects blurred patches less firmly); on the real dataset it rated them *more* real.
    _, blurred_unasked, _ = scores_after_training(0.0)
    assert blurred.mean() < blurred_unasked.mean() - 0.5
