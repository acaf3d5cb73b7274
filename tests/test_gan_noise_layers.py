"""The noise into every layer of the generator (gan.noise_layers): ``gan train --noise-into every``
from scratch, or ``--start-from OLD --noise-into every`` grown so it draws what it drew."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from gan.bundle import load_gan_bundle
from gan.config import GanConfig, TrainConfig
from gan.model import Generator
from gan.noise_layers import noise_growth_asked, with_noise_in_every_layer
from gan.start_from import start_from
from gan.state import GanState, load_checkpoint
from gan.widen import Widening, widened_weights
from tests.test_gan_cli import TINY_MODEL, run_gan
from tests.test_gan_widen import two_step_run

SMALL = GanConfig(z_dim=8, embed_dim=4, n_mels=32, frames=32, g_channels=(16, 8, 4),
                  d_channels=(4, 8, 16))  # fmt: skip


def _draw(generator: Generator, train: bool, seed: int = 5) -> torch.Tensor:
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(32, generator.config.z_dim, generator=rng)
    y = torch.randint(0, generator.config.n_classes, (32,), generator=rng)
    with torch.no_grad():
        return generator.train(train)(z, y)


def _one_step(state: GanState) -> None:
    """One generator update, so its optimiser holds moments and its weights are not initial."""
    z = torch.randn(8, state.config.model.z_dim)
    loss = state.generator(z, torch.arange(8) % state.config.model.n_classes).square().mean()
    state.opt_g.zero_grad()
    loss.backward()
    state.opt_g.step()


def test_a_grown_generator_draws_what_it_drew_then_follows_the_noise() -> None:
    state = GanState.fresh(TrainConfig(model=SMALL))
    _one_step(state)
    grown = with_noise_in_every_layer(state)
    assert grown.config.model.noise_into == "every" and grown.step == state.step
    for train in (False, True):  # running statistics, and a batch's own
        assert torch.equal(_draw(state.generator, train), _draw(grown.generator, train))
        assert torch.equal(_draw(state.ema.model, train), _draw(grown.ema.model, train))
    # every old weight keeps its optimiser moments; the new maps start afresh
    old = dict(state.generator.named_parameters())
    for name, weight in grown.generator.named_parameters():
        if ".from_noise." in name:
            assert weight not in grown.opt_g.state and not weight.any(), name
        else:
            moments = grown.opt_g.state[weight]["exp_avg_sq"]
            assert torch.equal(moments, state.opt_g.state[old[name]]["exp_avg_sq"]), name
    # once the maps move, the same class and first-layer input draw something else
    with torch.no_grad():
        for norm in grown.generator.norms:
            norm.from_noise.weight.normal_(0.0, 0.3)
    assert (_draw(state.generator, False) - _draw(grown.generator, False)).abs().max() > 0.01


def test_a_widened_generator_with_noise_in_every_layer_draws_what_it_drew() -> None:
    config = replace(SMALL, noise_into="every")
    torch.manual_seed(0)
    generator = Generator(config).train()
    with torch.no_grad():
        generator(torch.randn(64, 8), torch.randint(0, 10, (64,)))  # batch-norm statistics
        for norm in generator.norms:
            norm.from_noise.weight.normal_(0.0, 0.3)
    wider = (24, 13, 9)
    widening = Widening.draw(config.g_channels, wider, seed=3)
    wide = Generator(replace(config, g_channels=wider))
    wide.load_state_dict(widened_weights(generator.state_dict(), config, widening, noise=0.0))
    assert (_draw(generator, False) - _draw(wide, False)).abs().max() < 1e-5


def test_which_model_options_grow_the_noise_maps() -> None:
    every = replace(SMALL, noise_into="every")
    assert noise_growth_asked(SMALL, every)
    assert noise_growth_asked(SMALL, replace(every, n_classes=20))  # the class count: the data's
    assert noise_growth_asked(GanConfig(), GanConfig(noise_into="every"))  # defaults: the source's
    assert not noise_growth_asked(SMALL, SMALL)
    assert not noise_growth_asked(every, every)  # already grown
    assert not noise_growth_asked(SMALL, replace(every, z_dim=9))  # another shape besides
    # bundles and checkpoints from before the setting existed read "first"; others are refused
    stored = {key: value for key, value in SMALL.to_dict().items() if key != "noise_into"}
    assert GanConfig.from_dict(stored).noise_into == "first"
    with pytest.raises(ValueError, match="noise_into must be one of first, every"):
        GanConfig(noise_into="all")


def test_a_run_goes_on_with_the_noise_in_every_layer(tmp_path: Path) -> None:
    source, common, before = two_step_run(tmp_path)

    # checked before any step: it draws exactly what the source drew, at the source's step
    asked = replace(before.config, steps=4, model=replace(before.config.model, noise_into="every"))
    start_from(source, tmp_path / "direct", asked)
    state = load_checkpoint(tmp_path / "direct" / "checkpoint.pt")
    assert state.config.model.noise_into == "every" and state.step == 2
    assert torch.equal(_draw(before.ema.model, False), _draw(state.ema.model, False))

    # through the CLI, trained on and exported: it says so, the maps moved, and the card's
    # reproduce command makes the same shape
    second, out = tmp_path / "second", tmp_path / "out"
    started = run_gan("train", "--run", str(second), "--start-from", str(source), "--steps", "4",
                      "--export", str(out), "--noise-into", "every", *common,
                      *TINY_MODEL)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert "Its generator's noise now enters every layer" in started.stderr
    bundle = load_gan_bundle(out)
    assert bundle.generator.config.noise_into == "every"
    assert any(norm.from_noise.weight.any() for norm in bundle.generator.norms)
    card = (out / "MODEL_CARD.md").read_text()
    assert "the noise let into every layer of its generator" in card
    assert "--noise-into every" in card

    # from scratch too; an unknown place is refused in plain words
    fresh = run_gan("train", "--run", str(tmp_path / "fresh"), "--steps", "2",
                    "--noise-into", "every", *common, *TINY_MODEL)  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    assert load_checkpoint(tmp_path / "fresh" / "checkpoint.pt").config.model.noise_into == "every"
    wrong = run_gan("train", "--run", str(tmp_path / "wrong"), "--steps", "2",
                    "--noise-into", "all", *common, *TINY_MODEL)  # fmt: skip
    assert wrong.returncode == 2 and "invalid choice: 'all'" in wrong.stderr
    assert "Traceback" not in wrong.stderr
