"""The musicnn spread term (``--musicnn-diversity``): two noises of one genre should sound as far
apart to musicnn as two real patches of that genre do, and no further."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan.card_training import recipe_lines
from gan.config import TrainConfig, training_options
from gan.losses import paired_genres
from gan.pretrained_judge import genre_spread, spread_loss, style
from gan.state import GanState
from gan.train import musicnn_step
from tests.test_gan_model import TINY, one_thread, synthetic_clips  # noqa: F401
from tests.test_gan_musicnn_d import tiny_judge

ROOT = Path(__file__).resolve().parents[1]


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


def test_the_term_spreads_a_genre_s_patches_apart_as_musicnn_hears_them() -> None:
    judge, _ = tiny_judge()
    assert (judge.spread > 0).sum() >= 2  # the synthetic genres with bank patches
    genres = paired_genres(judge.bank_genres[:4].repeat(2))
    z = torch.randn(8, TINY.z_dim, generator=torch.Generator().manual_seed(3))

    def trained(weight: float) -> tuple[float, float, list[float]]:
        """Pair distance before and after 30 musicnn steps, and the spread losses on the way."""
        torch.manual_seed(0)
        config = TrainConfig(batch_size=8, model=TINY, augment="", musicnn_weight=1e-3,
                             musicnn_diversity=weight)  # fmt: skip
        state = GanState.fresh(config)

        def apart() -> float:
            with torch.no_grad():
                vectors = style(judge.backbone, judge.hear(state.generator(z, genres)))
            return float((vectors[:4] - vectors[4:]).norm(dim=1).mean())

        before = apart()
        losses = [musicnn_step(state, judge, 8).get("musicnn_spread", 0.0) for _ in range(30)]
        return before, apart(), losses

    # A new generator's patches lie further apart than the synthetic clips' (the loss would be
    # 0): ask for three times their distance, as real music asks it of a generator of one sound.
    start, _, _ = trained(0.0)
    judge.spread = torch.full_like(judge.spread, 3 * start)
    _, without, none = trained(0.0)
    before, spread_out, losses = trained(10.0)
    assert before == start and not any(none)  # off: not computed, nothing paired
    assert 0 < losses[0] <= 1
    # the head's pull draws the genre's patches together; the term holds them apart
    assert spread_out > 1.2 * without


def test_the_spread_term_is_an_option_of_the_musicnn_discriminator(tmp_path: Path) -> None:
    config = TrainConfig(musicnn_weight=1.0, musicnn_diversity=0.5)
    assert "--musicnn-diversity 0.5" in " ".join(training_options(config))
    assert any("A spread term, weight 0.5" in line
               for line in recipe_lines({"config": config.to_dict()}))  # fmt: skip
    assert not any("spread term" in line for line in recipe_lines(
        {"config": TrainConfig(musicnn_weight=1.0).to_dict()}))  # fmt: skip
    with pytest.raises(ValueError, match="needs the musicnn discriminator"):
        TrainConfig(musicnn_diversity=1.0)
    done = subprocess.run(
        [sys.executable, "-m", "gan", "train", "--run", str(tmp_path / "r"),
         "--musicnn-diversity", "1"], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "--musicnn-d" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "r").exists()
