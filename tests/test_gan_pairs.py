"""The pair discriminator (``gan train --pair-d``): paired real batches, the head, its losses,
and a run that trains, checkpoints and resumes it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan.card_training import recipe_lines
from gan.config import TrainConfig, training_options
from gan.data import ClipMel, PatchSampler
from gan.pairs import PairHead, pair_d_loss, pair_g_loss
from gan.start_from import start_from
from gan.state import GanState, load_checkpoint
from gan.train import train, train_step
from genre.labels import GTZAN_GENRES
from tests.test_gan_model import TINY, one_thread, synthetic_clips  # noqa: F401


def flat_clips(per_genre: dict[str, int]) -> list[ClipMel]:
    """Clips whose every value names them: genre index g, clip k → g / 10 + k / 100."""
    clips = []
    for g, genre in enumerate(GTZAN_GENRES):
        for k in range(per_genre.get(genre, 3)):
            mel = torch.full((128, 140), g / 10 + k / 100)
            clips.append(ClipMel(genre, k, Path(f"{genre}{k}.wav"), mel))
    return clips


def test_a_paired_batch_pairs_two_clips_of_one_genre() -> None:
    sampler = PatchSampler(flat_clips({"blues": 1}), frames=128)  # blues: a single clip
    rng = torch.Generator().manual_seed(0)
    one_clip_pairs = 0
    for _ in range(40):
        patches, genres = sampler.sample(9, rng, paired=True)  # an odd patch out stays unpaired
        first, second = patches[:4, 0, 0, 0], patches[4:8, 0, 0, 0]
        assert genres[:4].tolist() == genres[4:8].tolist()
        for a, b, g in zip(first.tolist(), second.tolist(), genres[:4].tolist(), strict=True):
            assert round(a * 10) == g  # the patch is of its genre
            if g == 0:
                one_clip_pairs += 1
                assert a == b  # the genre's only clip, twice
            else:
                assert a != b  # two clips of the genre
    assert one_clip_pairs > 0


def test_an_unpaired_batch_is_drawn_as_before() -> None:
    """Runs without the pair head keep their data stream (resumed runs draw what they drew)."""
    sampler = PatchSampler(synthetic_clips())
    a = sampler.sample(6, torch.Generator().manual_seed(3))
    b = sampler.sample(6, torch.Generator().manual_seed(3), paired=False)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_the_head_judges_a_pair_by_how_its_patches_differ() -> None:
    torch.manual_seed(0)
    head = PairHead(16, 10).eval()  # in training mode each call steps spectral norm's estimate
    a, b, y = torch.randn(5, 16), torch.randn(5, 16), torch.arange(5)
    assert torch.allclose(head(a, b, y), head(b, a, y))  # symmetric
    one = torch.zeros(1, 16)
    assert float(pair_d_loss(head, one, y[:1], one, y[:1])) == 0.0  # no pair to judge
    assert float(pair_g_loss(head, one, y[:1])) == 0.0


def test_trained_on_varied_real_pairs_it_asks_identical_generated_pairs_to_differ() -> None:
    """Real pairs lie apart, generated pairs are two copies: the head learns to tell them, and
    its gradient for the generator pushes each generated pair apart."""
    torch.manual_seed(1)
    head = PairHead(16, 10)
    optimiser = torch.optim.Adam(head.parameters(), lr=1e-2)
    genres = torch.arange(8) % 4
    for _ in range(200):
        real = torch.randn(8, 16)
        copy = torch.randn(4, 16)
        fake = torch.cat([copy, copy + 0.01 * torch.randn(4, 16)])
        optimiser.zero_grad()
        pair_d_loss(head, real, genres, fake, genres).backward()
        optimiser.step()
    real, copy = torch.randn(8, 16), torch.randn(4, 16)
    fake = torch.cat([copy, copy + 0.01 * torch.randn(4, 16)]).requires_grad_(True)
    with torch.no_grad():
        real_score = head(real[:4], real[4:], genres[:4]).mean()
        assert real_score > head(fake[:4], fake[4:], genres[:4]).mean()
    pair_g_loss(head, fake, genres).backward()
    assert fake.grad is not None
    stepped = (fake - 0.5 * fake.grad).detach()
    apart = lambda x: (x[:4] - x[4:]).norm(dim=1).mean()  # noqa: E731
    assert apart(stepped) > apart(fake.detach())


def test_a_training_step_updates_the_pair_head_and_the_run_keeps_it(tmp_path: Path) -> None:
    config = TrainConfig(steps=4, batch_size=4, model=TINY, augment="", pair_weight=1.0)
    sampler = PatchSampler(synthetic_clips())
    state = GanState.fresh(config)
    assert state.pair_head is not None
    before = {k: v.clone() for k, v in state.pair_head.state_dict().items()}
    losses = train_step(state, *sampler.sample(4, torch.Generator().manual_seed(0), paired=True))
    assert losses["pair_d"] > 0 and "pair_g" in losses
    after = state.pair_head.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    # a real (tiny) run: trained, checkpointed, resumed with the head it had
    seen: list[dict[str, float]] = []
    run = tmp_path / "run"
    train(sampler, run, config, progress=False, say=lambda _: None,
          on_step=lambda _step, losses: seen.append(losses))  # fmt: skip
    assert len(seen) == 4 and all("pair_d" in losses for losses in seen)
    saved = load_checkpoint(run / "checkpoint.pt")
    assert saved.pair_head is not None and saved.step == 4
    head = GanState.fresh(config).pair_head
    assert head is not None
    kept = saved.pair_head.state_dict()
    assert any(not torch.equal(head.state_dict()[k], kept[k]) for k in kept)  # trained, kept


def test_a_run_started_from_one_without_pairs_gets_a_new_head(tmp_path: Path) -> None:
    sampler = PatchSampler(synthetic_clips())
    plain = TrainConfig(steps=2, batch_size=4, model=TINY, augment="")
    train(sampler, tmp_path / "old", plain, progress=False, say=lambda _: None)
    paired = TrainConfig(steps=4, batch_size=4, model=TINY, augment="", pair_weight=2.0)
    start_from(tmp_path / "old", tmp_path / "new", paired)
    result = train(sampler, tmp_path / "new", paired, progress=False, say=lambda _: None)
    assert result.resumed_from == 2 and result.state.pair_head is not None
    assert result.state.config.pair_weight == 2.0


def test_the_pair_discriminator_is_a_training_option() -> None:
    config = TrainConfig(pair_weight=0.5)
    assert "--pair-d 0.5" in " ".join(training_options(config))
    assert any("A pair discriminator, weight 0.5" in line
               for line in recipe_lines({"config": config.to_dict()}))  # fmt: skip
    assert not any("pair discriminator" in line
                   for line in recipe_lines({"config": TrainConfig().to_dict()}))  # fmt: skip
    with pytest.raises(ValueError, match="pair discriminator"):
        TrainConfig(pair_weight=-1.0)
