"""A run goes on with a wider generator that draws what it drew (gan.widen, Net2Wider):
``gan train --start-from OLD --g-channels ...``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from gan.config import GanConfig
from gan.errors import GanError
from gan.model import Generator, count_parameters
from gan.start_from import start_from
from gan.state import GanState, load_checkpoint
from gan.widen import Widening, check_widths, widened_weights, widths_asked
from tests.test_gan_cli import TINY_MODEL, run_gan, tone_clips
from tests.test_gan_recordings import two_tones_per_genre

SMALL = GanConfig(n_classes=5, z_dim=8, embed_dim=4, n_mels=32, frames=32,
                  g_channels=(16, 8, 4), d_channels=(4, 8, 16))  # fmt: skip
WIDER = (24, 13, 9)  # one channel copied three times, others twice or not at all


def _trained_looking(config: GanConfig) -> Generator:
    """A generator whose batch-norm statistics and per-class gains are not the initial ones,
    so a copy that got them wrong would show."""
    torch.manual_seed(0)
    generator = Generator(config).train()
    with torch.no_grad():
        for _ in range(3):
            generator(torch.randn(64, config.z_dim), torch.randint(0, config.n_classes, (64,)))
        for norm in generator.norms:
            norm.gain.weight.normal_(1.0, 0.3)
            norm.bias.weight.normal_(0.0, 0.3)
    return generator.eval()


def _draw(generator: Generator, train: bool) -> torch.Tensor:
    rng = torch.Generator().manual_seed(5)
    z = torch.randn(32, generator.config.z_dim, generator=rng)
    y = torch.randint(0, generator.config.n_classes, (32,), generator=rng)
    with torch.no_grad():
        return generator.train(train)(z, y)


@pytest.mark.parametrize("upsample", ["nearest", "transposed"])
def test_a_widened_generator_draws_what_it_drew(upsample: str) -> None:
    config = replace(SMALL, upsample=upsample)
    generator = _trained_looking(config)
    widening = Widening.draw(config.g_channels, WIDER, seed=3)
    wide_config = replace(config, g_channels=WIDER)
    exact, noisy = Generator(wide_config), Generator(wide_config)
    exact.load_state_dict(widened_weights(generator.state_dict(), config, widening, noise=0.0))
    noisy.load_state_dict(widened_weights(generator.state_dict(), config, widening))
    assert count_parameters(exact) > 1.5 * count_parameters(generator)
    for train in (False, True):  # running statistics, and a batch's own
        before, after = _draw(generator, train), _draw(exact, train)
        assert (before - after).abs().max() < 1e-5, train
    # the copies' noise moves the drawing a little, not much
    moved = (_draw(generator, False) - _draw(noisy, False)).abs()
    assert 0 < moved.max() < 0.05
    # ... and the copies are no longer identical to what they copy
    last = noisy.ups[0].weight if upsample == "transposed" else noisy.ups[0][1].weight
    axis_copies = last.transpose(0, 1) if upsample == "transposed" else last
    source = widening.sources[1]
    copy = int(torch.nonzero(source[8:] == source[8:][0])[0]) + 8
    assert not torch.equal(axis_copies[copy], axis_copies[int(source[copy])])


def test_only_a_widening_of_the_same_depth_is_taken() -> None:
    check_widths((16, 8, 4), (16, 8, 4))
    for bad in [(16, 4, 4), (16, 8), (16, 8, 4, 4)]:
        with pytest.raises(GanError, match="is not a widening of the generator's 16 8 4"):
            check_widths((16, 8, 4), bad)
    # only the generator's widths may differ (the class count comes from the data)
    assert widths_asked(SMALL, replace(SMALL, g_channels=WIDER, n_classes=10)) == WIDER
    assert widths_asked(SMALL, GanConfig()) is None  # the defaults: the source's shape
    assert widths_asked(SMALL, replace(SMALL, g_channels=WIDER, z_dim=9)) is None
    assert widths_asked(GanConfig(), GanConfig(g_channels=(256, 192, 128, 64, 32))) == (
        256, 192, 128, 64, 32)  # fmt: skip


def two_step_run(tmp_path: Path) -> tuple[Path, list[str], GanState]:
    """A tiny run of two steps on tone clips to start from: its folder, the options that train
    on the same clips, and its state."""
    data = tone_clips(tmp_path / "clips")
    source = tmp_path / "source"
    common = ["--data", str(data), "--batch", "4", "--quiet"]
    made = run_gan("train", "--run", str(source), "--steps", "2", *common, *TINY_MODEL)
    assert made.returncode == 0, made.stderr
    return source, common, load_checkpoint(source / "checkpoint.pt")


def test_a_run_goes_on_with_a_wider_generator(tmp_path: Path) -> None:
    source, common, before = two_step_run(tmp_path)
    wide = (24, 8, 12, 4, 6)

    # What the new run starts from, checked before any step: the averaged generator draws
    # about what it drew, the discriminator and the step are the source's.
    start_from(source, tmp_path / "direct", replace(before.config, steps=4,
               model=replace(before.config.model, g_channels=wide)))  # fmt: skip
    state = load_checkpoint(tmp_path / "direct" / "checkpoint.pt")
    assert state.config.model.g_channels == wide and state.step == 2
    assert (_draw(before.ema.model, False) - _draw(state.ema.model, False)).abs().max() < 0.05
    trained = before.discriminator.state_dict()
    for name, value in state.discriminator.state_dict().items():
        assert torch.equal(value, trained[name]), name
    record = json.loads((tmp_path / "direct" / "started_from.json").read_text())
    assert record["widened_from"] == [16, 8, 8, 4, 4]

    # Through the CLI, trained on and exported: it says so, and so does the card.
    second, out = tmp_path / "second", tmp_path / "out"
    widths = [str(c) for c in wide]
    started = run_gan("train", "--run", str(second), "--start-from", str(source), "--steps", "4",
                      "--export", str(out), *common, *TINY_MODEL[:2], "--g-channels", *widths,
                      *TINY_MODEL[8:])  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert "Its generator is widened from channels 16 8 8 4 4 to 24 8 12 4 6" in started.stderr
    assert load_checkpoint(second / "checkpoint.pt").step == 4
    card = (out / "MODEL_CARD.md").read_text()
    assert "its generator widened from channels 16 8 8 4 4 to 24 8 12 4 6" in card
    assert "--g-channels 24 8 12 4 6" in card  # the reproduce command makes the same shape

    narrower = run_gan("train", "--run", str(tmp_path / "narrow"), "--start-from", str(source),
                       "--steps", "4", *common, *TINY_MODEL[:2], "--g-channels", "8", "8", "8",
                       "4", "4", *TINY_MODEL[8:])  # fmt: skip
    assert narrower.returncode == 2 and "is not a widening" in narrower.stderr
    assert "Traceback" not in narrower.stderr
    assert not (tmp_path / "narrow" / "checkpoint.pt").exists()


def test_a_genre_bundle_is_widened_and_grown_to_recordings_in_one_start(tmp_path: Path) -> None:
    """The README's long-run command, widened: from a genre bundle, one class per recording
    and a wider generator at once (widened when started, grown when the recordings are read)."""
    data = two_tones_per_genre(tmp_path / "clips")
    bundle, run = tmp_path / "bundle", tmp_path / "run"
    common = ["--data", str(data), "--batch", "4", "--quiet"]
    made = run_gan("train", "--run", str(tmp_path / "first"), "--steps", "2", "--export",
                   str(bundle), *common, *TINY_MODEL)  # fmt: skip
    assert made.returncode == 0, made.stderr
    started = run_gan("train", "--run", str(run), "--start-from", str(bundle), "--condition",
                      "recording", "--steps", "3", "--g-channels", "24", "8", "12", "4", "6",
                      *common)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert "class tables grow to one row per recording" in started.stderr
    assert "Its generator is widened from channels 16 8 8 4 4 to 24 8 12 4 6" in started.stderr
    state = load_checkpoint(run / "checkpoint.pt")
    assert state.step == 3 and state.config.model.n_classes == 20
    assert state.config.model.g_channels == (24, 8, 12, 4, 6)
    assert state.generator.norms[2].gain.weight.shape == (20, 12)
