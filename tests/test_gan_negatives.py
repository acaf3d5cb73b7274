"""Negative data augmentation: real patches with their order of events broken, judged as fake."""

from __future__ import annotations

import pytest
import torch

from gan.config import TrainConfig
from gan.data import ClipMel, PatchSampler
from gan.negatives import BLOCK_FRAMES, reverse, shuffle_blocks, temporal_negatives
from gan.state import GanState
from gan.train import train_step
from tests.test_gan_model import TINY, one_thread, synthetic_clips  # noqa: F401


def patches(n: int = 6, frames: int = 128) -> torch.Tensor:
    return torch.rand(n, 1, 128, frames, generator=torch.Generator().manual_seed(1)) * 2 - 1


def blocks_of(x: torch.Tensor) -> list[torch.Tensor]:
    return list(x[..., : (x.shape[-1] // BLOCK_FRAMES) * BLOCK_FRAMES].split(BLOCK_FRAMES, -1))


def test_shuffled_blocks_are_the_patch_s_own_blocks_in_another_order_of_its_own() -> None:
    x = patches(frames=133)  # 8 whole blocks and 5 frames left over
    shuffled = shuffle_blocks(x, torch.Generator().manual_seed(0))
    orders = set()
    for before, after in zip(x, shuffled, strict=True):
        mine, theirs = blocks_of(before), blocks_of(after)
        order = tuple(next(i for i, b in enumerate(mine) if torch.equal(b, t)) for t in theirs)
        assert sorted(order) == list(range(8)) and order != tuple(range(8))
        orders.add(order)
        assert torch.equal(after[..., 128:], before[..., 128:])  # the leftover frames stay
        # the same sounds, so the same average spectrum: only the order differs
        assert torch.allclose(after.mean(-1), before.mean(-1), atol=1e-6)
    assert len(orders) == len(x)  # each patch draws its own order


def test_negatives_are_reversed_or_shuffled_each_patch_by_its_own_draw() -> None:
    x = patches(16)
    out = temporal_negatives(x, torch.Generator().manual_seed(0))
    backwards = [torch.equal(o, reverse(p)) for o, p in zip(out, x, strict=True)]
    assert 0 < sum(backwards) < len(x)
    for o, p, was_reversed in zip(out, x, backwards, strict=True):
        if not was_reversed:  # then shuffled: the same blocks, in another order
            assert sorted(b.sum().item() for b in blocks_of(o)) == pytest.approx(
                sorted(b.sum().item() for b in blocks_of(p))
            )
            assert not torch.equal(o, p)


def swelling_clips(frames: int = 400) -> list[ClipMel]:
    """Clips whose notes strike and fade (every 16 frames: loud at once, then quieter), so
    backwards they swell and cut off: the same sounds, only their order tells them apart."""
    clips = synthetic_clips(frames)
    envelope = 1.0 - (torch.arange(frames) % 16) / 8.0  # 1 → -0.875 in each note
    return [ClipMel(c.genre, c.number, c.path, c.mel * 0.2 + 0.6 * envelope) for c in clips]


def trained_tiny(clips: list[ClipMel], **options: float) -> tuple[GanState, PatchSampler]:
    """A tiny run after 200 steps of batch 8 on ``clips``, without augmentation, with the
    training ``options`` given (such as ``negatives=1.0``)."""
    torch.manual_seed(0)
    state = GanState.fresh(TrainConfig(batch_size=8, model=TINY, augment="", **options))
    sampler = PatchSampler(clips)
    for _ in range(200):
        train_step(state, *sampler.sample(8, state.data_rng))
    return state, sampler


def trained_on_swelling_clips(negatives: float) -> tuple[GanState, PatchSampler]:
    """A tiny run after 200 steps on :func:`swelling_clips`."""
    return trained_tiny(swelling_clips(), negatives=negatives)


def scores_after_training(negatives: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The discriminator's scores of real patches and of the same patches reversed."""
    state, sampler = trained_on_swelling_clips(negatives)
    real, genres = sampler.sample(64, torch.Generator().manual_seed(5))
    d = state.discriminator.eval()
    with torch.no_grad():
        return d(real, genres), d(reverse(real), genres)


def test_a_discriminator_shown_negatives_learns_that_backwards_is_not_music() -> None:
    real, backwards = scores_after_training(1.0)
    assert backwards.mean() < -1.0  # judged fake: beyond the hinge's margin
    assert (real > backwards).float().mean() >= 0.95
    real, backwards = scores_after_training(0.0)  # without them it was never asked
    assert backwards.mean() > 0.0


# each kind of negative: its TrainConfig field, its option and the card's words for it
KINDS = [("negatives", "--negatives", "Negative examples"),
         ("spectral_negatives", "--spectral-negatives", "Spectral negative examples")]  # fmt: skip


@pytest.mark.parametrize("field", [field for field, _, _ in KINDS])
def test_negative_weights_below_zero_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="negatives"):
        TrainConfig(**{field: -0.1})


@pytest.mark.parametrize(("field", "flag", "words"), KINDS)
def test_the_card_names_the_negatives_and_its_command_repeats_them(
    field: str, flag: str, words: str
) -> None:
    from gan.card_training import recipe_lines
    from gan.cli import build_parser
    from gan.config import training_options

    config = TrainConfig(steps=10, **{field: 0.5})
    options = training_options(config)
    assert options[options.index(flag) + 1] == "0.5"
    assert getattr(build_parser().parse_args(["train", *options]), field) == 0.5
    lines = recipe_lines({"config": config.to_dict()})
    assert any(f"{words}, weight 0.5" in line for line in lines)
    plain = recipe_lines({"config": TrainConfig().to_dict()})
    assert not any(words.split()[0] in line for line in plain)
