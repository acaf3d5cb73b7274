"""The level guard (``gan train --level-guard``) and the spread term's audible pairs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan.card_training import recipe_lines
from gan.config import TrainConfig, training_options
from gan.data import ClipMel, PatchSampler
from gan.levels import GUARD_DB, audible, level_shortfall, real_patch_floors
from gan.losses import paired_genres
from gan.pretrained_judge import spread_loss
from gan.state import GanState
from gan.train import train, train_step
from genre.labels import GTZAN_GENRES
from tests.test_gan_model import TINY, one_thread, synthetic_clips  # noqa: F401

SEED = 0
DB_PER_UNIT = 60.0  # the normalised range [-1, 1] spans -80…40 dB


def clip(genre: str, levels: list[tuple[int, float]]) -> ClipMel:
    """A clip of flat stretches: (frames, normalised level) each."""
    mel = torch.cat([torch.full((128, n), level) for n, level in levels], dim=1)
    return ClipMel(genre, 0, Path(f"{genre}.wav"), mel)


def test_a_genre_s_floor_is_the_level_of_its_quietest_real_patch() -> None:
    loud = [clip(g, [(200, 0.2)]) for g in GTZAN_GENRES[1:]]
    # blues: a whole quiet patch in one clip, a shorter quiet stretch in the other
    blues = [clip("blues", [(100, 0.0), (128, -0.6), (100, 0.0)]),
             clip("blues", [(100, 0.0), (64, -0.9), (100, 0.0)])]  # fmt: skip
    floors = real_patch_floors(PatchSampler(blues + loud, frames=128))
    assert floors[0] == pytest.approx(-0.6)  # half a patch at -0.9 averages to -0.45
    assert floors[1:].tolist() == pytest.approx([0.2] * 9)


def test_only_patches_below_their_genre_s_floor_pay_per_ten_db() -> None:
    floors = torch.tensor([0.0, -0.5])
    genres = torch.tensor([0, 0, 1])
    ten_db = GUARD_DB / DB_PER_UNIT
    patches = torch.stack([torch.full((1, 4, 4), level) for level in (-ten_db, 0.3, -0.5)])
    assert audible(patches, genres, floors).tolist() == [False, True, True]
    assert float(level_shortfall(patches, genres, floors)) == pytest.approx(1.0 / 3)
    patches.requires_grad_(True)
    level_shortfall(patches, genres, floors).backward()
    assert patches.grad is not None
    assert (patches.grad[0] < 0).all() and not patches.grad[1:].any()  # only the dropout rises


def test_the_spread_term_leaves_out_pairs_with_a_dropout() -> None:
    genres = paired_genres(torch.tensor([0, 0, 0, 0]))  # pairs (0, 2) and (1, 3)
    spread = torch.tensor([4.0])
    # pair (0, 2): sound and a dropout, far apart; pair (1, 3): two sounds, alike
    vectors = torch.tensor([[0.0], [0.0], [10.0], [1.0]])
    assert float(spread_loss(vectors, genres, spread)) == pytest.approx(0.375)
    loud = torch.tensor([True, True, False, True])
    assert float(spread_loss(vectors, genres, spread, loud)) == pytest.approx(0.75)
    silent = torch.zeros(4, dtype=torch.bool)
    assert float(spread_loss(vectors, genres, spread, silent)) == 0.0  # nothing to count


def test_the_guard_raises_a_quiet_generator_s_level() -> None:
    """Same seed, same batches: with the guard the generator's output ends louder."""
    real, genres = PatchSampler(synthetic_clips()).sample(4, torch.Generator().manual_seed(1))
    floors = torch.full((10,), 0.9)  # far above anything a fresh generator draws
    z = torch.randn(16, TINY.z_dim, generator=torch.Generator().manual_seed(2))
    y = torch.arange(16) % 10

    def level_after(guard: float) -> tuple[float, float]:
        state = GanState.fresh(TrainConfig(batch_size=4, model=TINY, augment="", lr_g=1e-3,
                                           level_guard=guard, seed=SEED))  # fmt: skip
        for _ in range(10):
            losses = train_step(state, real, genres, floors=floors)
        with torch.no_grad():  # as training draws them (batch statistics)
            level = float(state.generator(z, y).mean())
        return level, losses.get("level_guard", 0.0)

    control, no_term = level_after(0.0)
    guarded, term = level_after(5.0)
    assert no_term == 0.0 and term > 0.0
    assert guarded > control + 0.05, (guarded, control)  # measured 0.15-0.19 (seeds 0-5)


def test_the_level_guard_is_a_training_option(tmp_path: Path) -> None:
    config = TrainConfig(level_guard=1.5)
    assert "--level-guard 1.5" in " ".join(training_options(config))
    assert any("A level guard, weight 1.5" in line
               for line in recipe_lines({"config": config.to_dict()}))  # fmt: skip
    assert not any("level guard" in line for line in recipe_lines(
        {"config": TrainConfig().to_dict()}))  # fmt: skip
    with pytest.raises(ValueError, match="level guard"):
        TrainConfig(level_guard=-1.0)
    with pytest.raises(ValueError, match="floors"):
        train_step(GanState.fresh(TrainConfig(batch_size=4, model=TINY, level_guard=1.0)),
                   *PatchSampler(synthetic_clips()).sample(4, torch.Generator()))  # fmt: skip
    # a real (tiny) run finds the genres' floors itself and logs the term
    seen: list[dict[str, float]] = []
    train(PatchSampler(synthetic_clips()), tmp_path / "run",
          TrainConfig(steps=3, batch_size=4, model=TINY, level_guard=1.0),
          progress=False, on_step=lambda _step, losses: seen.append(losses),
          say=lambda _: None)  # fmt: skip
    assert len(seen) == 3 and all("level_guard" in losses for losses in seen)
