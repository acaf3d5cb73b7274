"""The musicnn spread term (``--musicnn-diversity``): two noises of one genre should sound as far
apart to musicnn as two real patches of that genre do, and no further."""

from __future__ import annotations

import pytest
import torch

from gan.card_training import recipe_lines
from gan.config import TrainConfig, training_options
from gan.losses import paired_genres
from gan.musicnn_update import musicnn_step
from gan.pretrained_judge import genre_spread, spread_loss, style
from gan.state import GanState
from tests.test_gan_model import TINY, one_thread, synthetic_clips  # noqa: F401
from tests.test_gan_musicnn_d import tiny_judge


def test_genre_spread_is_the_mean_distance_between_two_patches_of_a_genre() -> None:
    vectors = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0], [6.0, 8.0], [1.0, 0.0]])
    genres = torch.tensor([0, 0, 1, 1, 2])
    spread = genre_spread(vectors, genres, n_classes=4)
    assert spread.tolist() == pytest.approx([5.0, 10.0, 0.0, 0.0])  # one or no patch: 0


def test_the_spread_loss_asks_each_pair_for_real_music_s_spread_and_no_more() -> None:
    genres = paired_genres(torch.tensor([0, 1, 0, 1]))  # pairs (0, 2) and (1, 3) share a genre
    spread = torch.tensor([5.0, 10.0])

    def loss(second: list[float]) -> float:
        vectors = torch.tensor([[0.0], [0.0], [second[0]], [second[1]]])
        return float(spread_loss(vectors, genres, spread))

    assert loss([0.0, 0.0]) == pytest.approx(1.0)  # one sound a genre: all of it
    assert loss([2.5, 5.0]) == pytest.approx(0.5)
    assert loss([5.0, 10.0]) == pytest.approx(0.0)  # as far apart as real patches
    # pair by pair: one genre far apart does not excuse another drawn alike
    assert loss([50.0, 5.0]) == pytest.approx(0.25)
    beyond = torch.tensor([[0.0], [0.0], [50.0], [100.0]], requires_grad=True)
    spread_loss(beyond, genres, spread).backward()
    assert beyond.grad is not None and not beyond.grad.any()  # no reward beyond it


def test_the_term_pulls_a_genre_s_patches_apart_as_musicnn_hears_them() -> None:
    """The gradient reaches the generator through the sound and the backbone: pairs of one
    genre asked to lie three times further apart than they do move apart."""
    judge, _ = tiny_judge()
    generator = GanState.fresh(TrainConfig(batch_size=8, model=TINY, augment="")).generator
    genres = paired_genres(judge.bank_genres[:4].repeat(2))
    z = torch.randn(8, TINY.z_dim, generator=torch.Generator().manual_seed(3))

    def apart() -> float:
        with torch.no_grad():
            vectors = style(judge.backbone, judge.hear(generator(z, genres)))
        return float((vectors[:4] - vectors[4:]).norm(dim=1).mean())

    before = apart()
    spread = torch.full((10,), 3 * before)
    optimiser = torch.optim.Adam(generator.parameters(), lr=1e-3)
    losses = []
    for step in range(10):
        heard = judge.hear(generator(z, genres), seed=step)
        loss = spread_loss(style(judge.backbone, heard), genres, spread)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    # measured: 2.3-3.0 times as far apart and the loss down from 0.67 to 0.09-0.26 (4 seeds)
    assert apart() > 1.5 * before and losses[-1] < 0.6 * losses[0]


def test_a_musicnn_step_pairs_the_genres_and_adds_the_term_only_when_asked() -> None:
    judge, _ = tiny_judge()
    judge.spread = torch.full_like(judge.spread, 1e3)  # far beyond any pair: the term is on
    for weight in (0.0, 2.0):
        config = TrainConfig(batch_size=8, model=TINY, augment="", musicnn_weight=1.0,
                             musicnn_diversity=weight)  # fmt: skip
        losses = musicnn_step(GanState.fresh(config), judge, 8)
        if weight:
            assert 0.9 < losses["musicnn_spread"] <= 1.0
        else:
            assert "musicnn_spread" not in losses


def test_the_spread_term_is_an_option_of_the_musicnn_discriminator() -> None:
    config = TrainConfig(musicnn_weight=1.0, musicnn_diversity=0.5)
    assert "--musicnn-diversity 0.5" in " ".join(training_options(config))
    assert any("A spread term, weight 0.5" in line
               for line in recipe_lines({"config": config.to_dict()}))  # fmt: skip
    assert not any("spread term" in line for line in recipe_lines(
        {"config": TrainConfig(musicnn_weight=1.0).to_dict()}))  # fmt: skip
    with pytest.raises(ValueError, match="needs the musicnn discriminator"):
        TrainConfig(musicnn_diversity=1.0)
