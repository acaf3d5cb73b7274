"""The musicnn distribution term (``--musicnn-mmd``): per genre, the maximum mean discrepancy
between generated and real patches as musicnn hears them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from gan.card_training import recipe_lines
from gan.config import TrainConfig, training_options
from gan.musicnn_update import musicnn_step
from gan.pretrained_judge import MMD_WIDTHS, PretrainedJudge, mmd_loss, squared_mmd
from gan.recordings import class_genre_ids, two_genre_classes
from gan.state import GanState, load_checkpoint, save_checkpoint
from tests.test_gan_model import TINY, one_thread  # noqa: F401
from tests.test_gan_musicnn_d import tiny_judge, two_recordings_per_genre


def test_squared_mmd_is_zero_for_one_sample_and_the_kernels_sum_for_far_apart_ones() -> None:
    here = torch.zeros(2, 3)
    there = torch.full((2, 3), 100.0)
    kernels = len(MMD_WIDTHS)  # each Gaussian kernel is 1 at distance 0
    assert float(squared_mmd(here, here.clone(), width=1.0)) == pytest.approx(0.0)
    assert float(squared_mmd(here, there, width=1.0)) == pytest.approx(2.0 * kernels)
    rng = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 3, generator=rng), torch.randn(64, 3, generator=rng)
    shifted = torch.randn(64, 3, generator=rng) + 1.5
    same, apart = float(squared_mmd(a, b, 3.0)), float(squared_mmd(a, shifted, 3.0))
    assert abs(same) < 0.1 < apart


def synthetic_styles(judge: PretrainedJudge) -> torch.Tensor:
    """Give ``judge`` a bank of made-up standardised styles: genre 0's real patches spread
    around +2 on every axis, genre 1's around −2 (unit scale, so standardising changes
    nothing). Returns genre 0's real mean."""
    rng = torch.Generator().manual_seed(1)
    genre_ids = torch.tensor([0, 1]).repeat_interleave(200)
    centres = torch.where(genre_ids[:, None] == 0, 2.0, -2.0)
    judge.bank_genre_ids = genre_ids
    judge.styles = centres + torch.randn(400, 8, generator=rng)
    judge.style_mean, judge.style_scale = torch.zeros(8), torch.ones(8)
    judge.style_width = float(torch.cdist(judge.styles, judge.styles).pow(2).median())
    return judge.styles[:200].mean(0)


def test_the_term_draws_a_collapsed_genre_to_its_own_real_patches_and_spreads_it() -> None:
    judge, _ = tiny_judge(batches=1)
    real_mean = synthetic_styles(judge)
    fake = torch.full((8, 8), 0.5).add_(0.01 * torch.randn(8, 8)).requires_grad_(True)
    genre_ids = torch.zeros(8, dtype=torch.long)

    def spread() -> float:
        return float(torch.pdist(fake.detach()).mean())

    before_spread = spread()
    optimiser = torch.optim.Adam([fake], lr=0.05)
    losses = []
    for step in range(200):
        loss = mmd_loss(judge, fake, genre_ids, torch.Generator().manual_seed(step))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    centre = fake.detach().mean(0)
    # towards genre 0's real patches (at +2), not genre 1's (at −2), and no longer one point
    assert float((centre - real_mean).norm()) < 0.5 * float((0.5 - real_mean).norm())
    assert spread() > 10 * before_spread
    assert np.mean(losses[-20:]) < 0.3 * np.mean(losses[:20])


def test_the_bank_keeps_each_patch_s_genre_and_standardised_styles_for_the_term() -> None:
    sampler = two_recordings_per_genre()
    judge = PretrainedJudge.build(sampler, batch_size=8, batches=2)
    assert torch.equal(judge.bank_genre_ids, class_genre_ids(sampler.labels)[judge.bank_genres])
    assert int(judge.bank_genres.max()) >= 10  # its classes are recordings, its ids genres
    assert int(judge.bank_genre_ids.max()) < 10
    assert judge.styles.shape == (16, 200)
    assert torch.allclose(judge.styles.mean(0), torch.zeros(200), atol=1e-4)
    varied = judge.style_scale.isfinite()
    assert 0 < int(varied.sum()) < 200  # 16 synthetic patches leave some units off
    assert torch.allclose(judge.styles[:, varied].std(0), torch.ones(int(varied.sum())), atol=1e-3)
    assert not judge.styles[:, ~varied].any()  # those dimensions are left out, not blown up
    assert judge.standardised(torch.full((1, 200), 5.0)).isfinite().all()
    assert judge.style_width > 0
    assert (
        mmd_loss(
            judge, torch.zeros(1, 200), torch.zeros(1, dtype=torch.long), torch.Generator()
        ).item()
        == 0.0
    )  # one patch of a genre: nothing to compare


def test_two_genre_classes_draws_half_a_batch_from_each_of_two_genres() -> None:
    class_genres = torch.arange(10).repeat_interleave(2)  # two recordings a genre
    for n in (8, 7):
        classes = two_genre_classes(class_genres, n, torch.Generator().manual_seed(n))
        genres = class_genres[classes]
        counts = sorted(torch.bincount(genres).tolist(), reverse=True)
        assert len(classes) == n and counts[:2] == sorted([n // 2, n - n // 2], reverse=True)
        assert sum(counts[2:]) == 0


def test_a_musicnn_step_with_the_term_trains_the_generator_and_resumes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    sampler = two_recordings_per_genre()
    model = replace(TINY, n_classes=len(sampler.labels))
    config = TrainConfig(batch_size=8, model=model, augment="", condition="recording",
                         musicnn_weight=1.0, musicnn_mmd=10.0)  # fmt: skip
    state = GanState.fresh(config, sampler.labels)
    assert torch.equal(state.class_genres, class_genre_ids(sampler.labels))
    judge = PretrainedJudge.build(sampler, batch_size=8, batches=2)
    weights = [p.detach().clone() for p in state.generator.parameters()]
    losses = musicnn_step(state, judge, 8)
    assert np.isfinite(losses["musicnn_mmd"]) and np.isfinite(losses["musicnn_g"])
    after = state.generator.parameters()
    assert any(not torch.equal(a, b) for a, b in zip(weights, after, strict=True))
    save_checkpoint(state, tmp_path / "run" / "checkpoint.pt")
    again = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert again.config.musicnn_mmd == 10.0
    assert torch.equal(again.class_genres, state.class_genres)
    off = musicnn_step(GanState.fresh(replace(config, musicnn_mmd=0.0), sampler.labels), judge, 8)
    assert "musicnn_mmd" not in off


def test_the_term_is_an_option_of_the_musicnn_discriminator() -> None:
    config = TrainConfig(musicnn_weight=3.0, musicnn_mmd=10.0)
    assert "--musicnn-mmd 10.0" in " ".join(training_options(config))
    assert any("A distribution term, weight 10.0" in line
               for line in recipe_lines({"config": config.to_dict()}))  # fmt: skip
    assert not any("distribution term" in line for line in recipe_lines(
        {"config": TrainConfig(musicnn_weight=3.0).to_dict()}))  # fmt: skip
    with pytest.raises(ValueError, match="needs the musicnn discriminator"):
        TrainConfig(musicnn_mmd=1.0)
    with pytest.raises(ValueError, match="no spread term"):
        TrainConfig(musicnn_weight=1.0, musicnn_mmd=1.0, musicnn_diversity=1.0)
