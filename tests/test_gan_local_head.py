"""The discriminator's local head (``--local-d``): realness and genre judged cell by cell."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan.bundle import export_run, load_gan_bundle
from gan.card_training import recipe_lines
from gan.config import TrainConfig, training_options
from gan.critic import load_critic, save_critic
from gan.data import PatchSampler
from gan.model import LOCAL_DEPTH, Discriminator, GanConfig
from gan.sample import generate
from gan.start_from import start_from
from gan.state import GanState, load_checkpoint, save_checkpoint
from gan.train import train, train_step
from tests.test_gan_model import TINY, changed, one_thread, parameters, synthetic_clips  # noqa: F401
from tests.test_gan_negatives import trained_tiny


def patches(n: int = 4) -> torch.Tensor:
    return torch.rand(n, 1, 128, 128, generator=torch.Generator().manual_seed(3)) * 2 - 1


def test_the_local_head_judges_every_cell_of_an_early_map_in_the_same_pass() -> None:
    torch.manual_seed(0)
    d = Discriminator(GanConfig(), local=True).eval()
    x, y = patches(), torch.tensor([0, 3, 5, 9])
    with torch.no_grad():
        judged = d.judge(x, y)
        whole = d.score_and_classify(x, y)
    side = 128 // 2**LOCAL_DEPTH
    assert judged.local_score is not None and judged.local_logits is not None
    assert judged.local_score.shape == (4, side, side)
    assert judged.local_logits.shape == (4, 10, side, side)
    # the whole patch's verdict is the same with or without the local head asked
    assert torch.allclose(judged.score, whole[0]) and torch.allclose(judged.logits, whole[1])
    assert d.judge(x, y, local=False).local_score is None
    assert Discriminator(GanConfig()).judge(x, y).local_score is None  # none without the head


def test_a_cell_sees_only_its_neighbourhood_not_the_whole_patch() -> None:
    torch.manual_seed(0)
    d = Discriminator(GanConfig(), local=True).eval()
    x, y = patches(1), torch.tensor([2])
    changed_corner = x.clone()
    changed_corner[..., :8, :8] = 1.0  # the lowest mel bins of the first frames
    with torch.no_grad():
        before, after = d.judge(x, y).local_score, d.judge(changed_corner, y).local_score
    moved = (after - before).abs()[0] > 1e-6
    assert moved[:2, :2].all()  # the cells over the change see it…
    assert not moved[8:, :].any() and not moved[:, 8:].any()  # …the far ones do not


def test_a_trained_local_head_marks_the_cells_that_look_wrong_and_only_those() -> None:
    state, sampler = trained_tiny(synthetic_clips(), local_weight=1.0)  # a band per genre
    d = state.discriminator.eval()
    real, genres = sampler.sample(40, torch.Generator().manual_seed(5))
    keep = genres < 8  # genres whose band lies below mel bin 80
    real, genres = real[keep], genres[keep]
    odd = real.clone()
    odd[:, :, 100:108, 48:80] = 0.7  # a band where none of these genres has one
    with torch.no_grad():
        before, after = d.judge(real, genres).local_score, d.judge(odd, genres).local_score
    cells = (slice(None), slice(100 // 8, 108 // 8 + 1), slice(48 // 8, 80 // 8))
    assert before[cells].mean() > 0.5  # judged real as they were…
    assert after[cells].mean() < before[cells].mean() - 0.5  # …and far less so with the band
    assert torch.equal(before[:, :8], after[:, :8])  # cells that cannot see it are unmoved
    # without the option the discriminator has no such head at all
    plain, _ = trained_tiny(synthetic_clips())
    assert plain.discriminator.local is None


def test_a_step_with_the_local_head_moves_it_and_the_generator() -> None:
    state = GanState.fresh(TrainConfig(batch_size=4, model=TINY, augment="", local_weight=1.0))
    before_local = parameters(state.discriminator.local)
    before_g = parameters(state.generator)
    real, genres = torch.rand(4, 1, 128, 128) * 2 - 1, torch.tensor([0, 1, 2, 3])
    losses = train_step(state, real, genres)
    assert all(torch.isfinite(torch.tensor(list(losses.values()))))
    assert changed(before_local, state.discriminator.local)
    assert changed(before_g, state.generator)


def test_a_run_started_with_the_local_head_keeps_the_trained_trunk(tmp_path: Path) -> None:
    state = GanState.fresh(TrainConfig(batch_size=4, model=TINY, augment="", steps=20))
    real, genres = torch.rand(4, 1, 128, 128) * 2 - 1, torch.tensor([0, 1, 2, 3])
    for _ in range(3):
        train_step(state, real, genres)
    save_checkpoint(state, tmp_path / "old" / "checkpoint.pt")
    config = TrainConfig(batch_size=4, model=TINY, augment="", steps=40, local_weight=1.0)
    start_from(tmp_path / "old", tmp_path / "new", config)
    resumed = load_checkpoint(tmp_path / "new" / "checkpoint.pt")
    assert resumed.discriminator.local is not None and resumed.step == 3
    trunk = {k: v for k, v in state.discriminator.state_dict().items()}
    for key, value in resumed.discriminator.state_dict().items():
        if not key.startswith("local."):
            assert torch.equal(value, trunk[key]), key
    train_step(resumed, real, genres)  # its optimiser fits its parameters
    # and turned off again: the head is dropped, the trunk kept
    save_checkpoint(resumed, tmp_path / "new" / "checkpoint.pt")
    start_from(tmp_path / "new", tmp_path / "off", TrainConfig(batch_size=4, model=TINY,
                                                               augment="", steps=60))  # fmt: skip
    off = load_checkpoint(tmp_path / "off" / "checkpoint.pt")
    assert off.discriminator.local is None
    train_step(off, real, genres)


def test_a_critic_with_a_local_head_ships_and_loads(tmp_path: Path) -> None:
    torch.manual_seed(0)
    d = Discriminator(TINY, local=True)
    save_critic(d, tmp_path)
    critic, candidates = load_critic(tmp_path, {"critic": {"candidates": 4}}, TINY)
    assert critic is not None and critic.local is not None and candidates == 4
    x, y = patches(2), torch.tensor([1, 2])
    with torch.no_grad():
        assert torch.allclose(critic(x, y), d.eval()(x, y))


def test_the_card_and_the_reproduce_command_name_the_local_head(tmp_path: Path) -> None:
    config = TrainConfig(local_weight=0.5)
    assert "--local-d" in training_options(config)
    assert any("Local judging, weight 0.5" in line for line in recipe_lines(
        {"config": config.to_dict()}))  # fmt: skip
    assert not any("Local judging" in line for line in recipe_lines(
        {"config": TrainConfig().to_dict()}))  # fmt: skip
    with pytest.raises(ValueError, match="local head"):
        TrainConfig(local_weight=-1.0)


def test_a_tiny_run_with_the_local_head_exports_a_generator_that_samples(tmp_path: Path) -> None:
    config = TrainConfig(batch_size=4, model=TINY, augment="", steps=2, local_weight=1.0)
    train(PatchSampler(synthetic_clips()), tmp_path / "run", config, progress=False)
    bundle = load_gan_bundle(export_run(tmp_path / "run", tmp_path / "bundle"))
    assert "Local judging" in (tmp_path / "bundle" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert len(generate(bundle, ["jazz"], 1, seed=0)[0].audio) > 0
