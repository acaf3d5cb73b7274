"""``gan train --start-from``: a new run from another run's checkpoint (or a generator bundle's
generator), with other settings."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch

from gan.bundle import load_gan_bundle
from gan.config import TrainConfig
from gan.errors import GanError
from gan.start_from import start_from
from gan.state import load_checkpoint
from runs.store import RunRegistry
from tests.test_gan_cli import TINY_MODEL, run_gan, tone_clips
from ui.training_gan import run_settings


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_run_started_from_another_trains_on_from_its_checkpoint_with_new_settings(
    tmp_path: Path,
) -> None:
    data = tone_clips(tmp_path / "clips")
    source, second, bundle = tmp_path / "source", tmp_path / "second", tmp_path / "bundle"
    common = ["--data", str(data), "--batch", "4", "--quiet", *TINY_MODEL]
    first = run_gan("train", "--run", str(source), "--steps", "2", *common)
    assert first.returncode == 0, first.stderr
    # No model options: the model is the source's.
    started = run_gan("train", "--run", str(second), "--start-from", str(source), "--steps", "4",
                      "--mode-seeking", "0", "--export", str(bundle),
                      *common[: -len(TINY_MODEL)])  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert f"Starting from the checkpoint in {source.resolve()}" in started.stderr
    summary = json.loads(started.stdout.splitlines()[-1])
    assert summary["resumed_from"] == 2 and summary["step"] == 4
    after = load_checkpoint(second / "checkpoint.pt")
    assert after.step == 4 and after.config.mode_seeking == 0.0
    untouched = load_checkpoint(source / "checkpoint.pt")  # the source run is left as it was
    assert untouched.step == 2 and untouched.config.mode_seeking == 1.0
    rows = _rows(second / "losses.csv")  # the log goes on from the source's
    assert [r["step"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[:2] == _rows(source / "losses.csv")

    # It is exactly the source's checkpoint resumed with the new settings.
    by_hand = tmp_path / "by_hand"
    by_hand.mkdir()
    checkpoint = torch.load(source / "checkpoint.pt", weights_only=False)
    checkpoint["config"]["mode_seeking"] = 0.0
    torch.save(checkpoint, by_hand / "checkpoint.pt")
    resumed = run_gan("train", "--run", str(by_hand), "--steps", "4", *common)
    assert resumed.returncode == 0, resumed.stderr
    hand = load_checkpoint(by_hand / "checkpoint.pt")
    for a, b in zip(after.ema.model.parameters(), hand.ema.model.parameters(), strict=True):
        assert torch.equal(a, b)

    # The bundle and its card say where the run started and rebuild both parts.
    meta = json.loads((bundle / "gan.json").read_text())
    assert meta["training"]["started_from"]["run"] == str(source)
    assert meta["training"]["started_from"]["step"] == 2
    assert meta["training"]["started_from"]["config"]["mode_seeking"] == 1.0
    card = (bundle / "MODEL_CARD.md").read_text()
    assert f"Started from step 2 of the run in `{source}`" in card
    assert "--mode-seeking 1.0 → 0.0" in card
    assert f"python -m gan train --run {source} --steps 2 --batch 4 " in card
    assert (
        f"python -m gan train --start-from {source} --steps 4 --batch 4 --mode-seeking 0.0" in card
    )


def test_start_from_refuses_clearly_and_leaves_no_run_behind(tmp_path: Path) -> None:
    data = tone_clips(tmp_path / "clips")
    source = tmp_path / "source"
    common = ["--data", str(data), "--batch", "4", "--quiet", *TINY_MODEL]
    assert run_gan("train", "--run", str(source), "--steps", "2", *common).returncode == 0
    runs_before = len(RunRegistry().list())
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "gan.json").write_text("{")  # a damaged generator bundle
    refusals = [
        (["--run", str(tmp_path / "new"), "--start-from", str(tmp_path / "broken"),
          "--steps", "4"], "has unreadable metadata"),
        (["--run", str(source), "--start-from", str(source), "--steps", "4"],
         "names the run folder itself"),
        (["--run", str(tmp_path / "new"), "--start-from", str(tmp_path / "nowhere"),
          "--steps", "4"], "There is no checkpoint or generator bundle in "
          f"{(tmp_path / 'nowhere').resolve()}"),
        (["--run", str(tmp_path / "new"), "--start-from", str(source), "--steps", "2"],
         "is already at step 2: ask for more --steps"),
        (["--run", str(source), "--start-from", str(tmp_path / "x"), "--no-resume"],
         "cannot be combined with --no-resume"),
        (["--run-id", "from-the-page", "--start-from", str(source)],  # the page stores its own
         "cannot be combined with --run-id"),
    ]  # fmt: skip
    for options, message in refusals:
        refused = run_gan("train", *options, *common)
        assert refused.returncode == 2 and message in refused.stderr, (options, refused.stderr)
        assert "Traceback" not in refused.stderr
    # a wider generator is a widening (tests/test_gan_widen.py); a wider discriminator is not
    reshaped = run_gan("train", "--run", str(tmp_path / "wide"), "--start-from", str(source),
                       "--steps", "4", *common[:-len(TINY_MODEL)], "--z-dim", "8",
                       "--g-channels", "16", "8", "8", "4", "4",
                       "--d-channels", "4", "4", "8", "8", "32")  # fmt: skip
    assert reshaped.returncode == 2 and "another model shape" in reshaped.stderr
    assert len(RunRegistry().list()) == runs_before  # refused before registering
    assert not (tmp_path / "new" / "checkpoint.pt").exists()
    # A folder that already holds a run is resumed, not overwritten.
    second = tmp_path / "second"
    ok = run_gan(
        "train", "--run", str(second), "--start-from", str(source), "--steps", "3", *common
    )
    assert ok.returncode == 0, ok.stderr
    again = run_gan("train", "--run", str(second), "--start-from", str(source), "--steps", "5",
                    *common)  # fmt: skip
    assert again.returncode == 2 and "already holds a run: resume it" in again.stderr
    assert load_checkpoint(second / "checkpoint.pt").step == 3


def test_a_run_starts_from_a_generator_bundle_with_a_new_discriminator(tmp_path: Path) -> None:
    """A bundle keeps only the averaged generator: the run goes on from it at the bundle's
    step, with a new discriminator, and its card says so."""
    data = tone_clips(tmp_path / "clips")
    source, bundle = tmp_path / "source", tmp_path / "bundle"
    common = ["--data", str(data), "--batch", "4", "--quiet"]
    made = run_gan("train", "--run", str(source), "--steps", "2", "--export", str(bundle),
                   *common, *TINY_MODEL)  # fmt: skip
    assert made.returncode == 0, made.stderr

    # What the new run starts from, checked before any step.
    config = TrainConfig(steps=4, augment="shift,pitch")
    start_from(bundle, tmp_path / "direct", config)
    state = load_checkpoint(tmp_path / "direct" / "checkpoint.pt")
    shipped = load_gan_bundle(bundle).generator.state_dict()
    for network in (state.generator, state.ema.model):
        for name, value in network.state_dict().items():
            assert torch.equal(value, shipped[name]), name
    trained = load_checkpoint(source / "checkpoint.pt").discriminator.state_dict()
    fresh = state.discriminator.state_dict()
    assert any(not torch.equal(fresh[k], trained[k]) for k in trained)  # a new discriminator
    assert state.step == 2 and state.config.augment == "shift,pitch"
    assert state.config.model == load_gan_bundle(bundle).config  # its shape, not the default
    assert [r["step"] for r in _rows(tmp_path / "direct" / "losses.csv")] == ["1", "2"]
    damaged = tmp_path / "damaged"  # a bundle whose metadata lost its training record
    shutil.copytree(bundle, damaged)
    meta = json.loads((damaged / "gan.json").read_text())
    # each refusal names the setting and what it should be, in words (not Python's)
    refusals = [("x", "has a 'training' entry that is not an object in gan.json"),
                ({"seconds": 1.0}, "does not say how many steps"),
                ({"steps": 2, "config": "x"},
                 r"unusable training settings \(the training settings are 'x', not a set"),
                ({"steps": 2, "config": {"lr_g": "fast"}},
                 r"settings: 'lr_g' should be a number, not 'fast'\)"),
                ({"steps": 2, "config": {"steps": 2.5}}, "'steps' should be a whole number"),
                ({"steps": 2, "seconds": "long"},
                 r"\(its training time is 'long', not a number of seconds\)")]  # fmt: skip
    for training, message in refusals:
        (damaged / "gan.json").write_text(json.dumps({**meta, "training": training}))
        with pytest.raises(GanError, match=message):
            start_from(damaged, tmp_path / "refused", config)
    assert not (tmp_path / "refused" / "checkpoint.pt").exists()

    # Through the CLI, trained on and exported: the card tells where it started.
    second, out = tmp_path / "second", tmp_path / "out"
    started = run_gan("train", "--run", str(second), "--start-from", str(bundle), "--steps", "4",
                      "--augment", "shift,pitch", "--export", str(out), *common)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert f"Starting from the generator bundle in {bundle.resolve()}" in started.stderr
    summary = json.loads(started.stdout.splitlines()[-1])
    assert summary["resumed_from"] == 2 and summary["step"] == 4
    # the page's run list names its recipe as it names a page run's
    assert "other keys too" in run_settings(RunRegistry().get(summary["run_id"]))
    card = (out / "MODEL_CARD.md").read_text()
    assert f"Started from the generator bundle in `{bundle}` at its step 2" in card
    assert "a new discriminator" in card and "--augment shift,cutout,gain → shift,pitch" in card
    assert f"--start-from {bundle} --steps 4" in card
    assert f"gan train --run {bundle}" not in card  # a bundle is not a run to rebuild
    # …but how the bundle was made comes first, as its own card gave it (its evaluation left
    # out), so the chain survives the bundle being replaced, as a shipped one is by the next
    made_it = "--steps 2 --batch 4 --z-dim 8"
    block = card[card.index("Reproduce") :].split("```")[1]  # the commands' code block
    assert made_it in block and block.index(made_it) < block.index(f"--start-from {bundle}")
    assert "the commands that made it open the reproduce block below" in card
    assert block.count("gan evaluate") == 1

    # A run started from that run: the card rebuilds the whole chain, bundle start included.
    third, out3 = tmp_path / "third", tmp_path / "out3"
    chained = run_gan("train", "--run", str(third), "--start-from", str(second), "--steps", "5",
                      "--export", str(out3), *common)  # fmt: skip
    assert chained.returncode == 0, chained.stderr
    chained_run = RunRegistry().get(json.loads(chained.stdout.splitlines()[-1])["run_id"])
    assert chained_run.config["augment"] == TrainConfig.augment
    assert "other keys too" not in run_settings(chained_run)
    card = (out3 / "MODEL_CARD.md").read_text()
    assert f"python -m gan train --run {second} --start-from {bundle} --steps 4" in card
    assert f"python -m gan train --start-from {second} --steps 5" in card
    assert f"Started from step 4 of the run in `{second}`" in card
    assert "--augment shift,pitch → shift,cutout,gain" in card  # the options not given: defaults
    assert f"That run started from the generator bundle in `{bundle}` at its step 2" in card


def test_a_bundle_that_ships_a_critic_goes_on_training_against_it(tmp_path: Path) -> None:
    """A bundle with a critic (``--critic``) carries the discriminator of its step: a run
    started from it keeps that discriminator instead of a new one, and says so."""
    data = tone_clips(tmp_path / "clips")
    source, bundle = tmp_path / "source", tmp_path / "bundle"
    common = ["--data", str(data), "--batch", "4", "--quiet"]
    made = run_gan("train", "--run", str(source), "--steps", "2", *common, *TINY_MODEL)
    assert made.returncode == 0, made.stderr
    exported = run_gan("export", "--run", str(source), "--out", str(bundle), "--critic", "2")
    assert exported.returncode == 0, exported.stderr

    start_from(bundle, tmp_path / "direct", TrainConfig(steps=4, local_weight=1.0))
    state = load_checkpoint(tmp_path / "direct" / "checkpoint.pt")
    trained = load_checkpoint(source / "checkpoint.pt").discriminator.state_dict()
    kept = state.discriminator.state_dict()
    for name, value in trained.items():  # the trunk and heads it was trained with…
        assert torch.equal(kept[name], value), name
    assert state.discriminator.local is not None  # …and the local head asked for, new

    second, out = tmp_path / "second", tmp_path / "out"
    started = run_gan("train", "--run", str(second), "--start-from", str(bundle), "--steps", "3",
                      "--export", str(out), *common)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert "Starting from the generator bundle and its critic in" in started.stderr
    card = (out / "MODEL_CARD.md").read_text()
    assert "its critic as the discriminator" in card and "a new discriminator" not in card


def test_a_run_started_with_the_genre_head_turned_off_or_on_keeps_the_rest(
    tmp_path: Path,
) -> None:
    """``--aux-weight 0`` drops the discriminator's AC-GAN genre head (it once stopped
    ``--start-from`` with "unexpected key classify.weight"); turning it back on starts it afresh.
    Every other trained weight is kept either way."""
    data = tone_clips(tmp_path / "clips")
    source, off, on = tmp_path / "source", tmp_path / "off", tmp_path / "on"
    common = ["--data", str(data), "--batch", "4", "--quiet"]
    made = run_gan("train", "--run", str(source), "--steps", "2", *common, *TINY_MODEL)
    assert made.returncode == 0, made.stderr
    trained = load_checkpoint(source / "checkpoint.pt").discriminator.state_dict()
    assert "classify.weight" in trained

    dropped = run_gan("train", "--run", str(off), "--start-from", str(source), "--steps", "3",
                      "--aux-weight", "0", *common)  # fmt: skip
    assert dropped.returncode == 0, dropped.stderr
    without = load_checkpoint(off / "checkpoint.pt")
    assert without.step == 3 and without.discriminator.classify is None
    assert set(without.discriminator.state_dict()) == set(trained) - {
        "classify.weight", "classify.bias"}  # fmt: skip

    start_from(off, on, TrainConfig(steps=4, aux_weight=1.0))
    back = load_checkpoint(on / "checkpoint.pt")
    assert back.discriminator.classify is not None  # a new head…
    kept = back.discriminator.state_dict()
    for name, value in without.discriminator.state_dict().items():  # …beside the trunk it had
        assert torch.equal(kept[name], value), name


def _saved_step_sizes(run_dir: Path) -> tuple[float, float]:
    """The step sizes the run's optimisers trained at, as its checkpoint saved them."""
    raw = torch.load(run_dir / "checkpoint.pt", weights_only=False)
    return raw["opt_g"]["param_groups"][0]["lr"], raw["opt_d"]["param_groups"][0]["lr"]


def test_a_run_started_with_new_step_sizes_trains_at_them(tmp_path: Path) -> None:
    """--lr-g / --lr-d given with --start-from are the step sizes the new run trains at: an
    optimiser's saved state also holds the step size it was saved with, which used to win.
    From a bundle, a near-zero --lr-g lets the new discriminator learn while the generator
    keeps the bundle's weights (a discriminator warm-up)."""
    data = tone_clips(tmp_path / "clips")
    source, bundle = tmp_path / "source", tmp_path / "bundle"
    common = ["--data", str(data), "--batch", "4", "--quiet"]
    made = run_gan("train", "--run", str(source), "--steps", "2", "--export", str(bundle),
                   *common, *TINY_MODEL)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert _saved_step_sizes(source) == (2e-4, 4e-4)  # the defaults

    slower = tmp_path / "slower"
    started = run_gan("train", "--run", str(slower), "--start-from", str(source), "--steps", "4",
                      "--lr-g", "5e-5", "--lr-d", "1e-4", *common)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert _saved_step_sizes(slower) == (5e-5, 1e-4)

    warm_up = tmp_path / "warm_up"
    started = run_gan("train", "--run", str(warm_up), "--start-from", str(bundle), "--steps", "5",
                      "--lr-g", "1e-12", *common)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert _saved_step_sizes(warm_up) == (1e-12, 4e-4)
    after = load_checkpoint(warm_up / "checkpoint.pt")
    shipped = load_gan_bundle(bundle).generator.state_dict()
    for name, value in after.generator.named_parameters():
        assert torch.allclose(value, shipped[name], atol=1e-8), name  # the generator held still
    # …and the recipe proper, started from that run, trains at its own step sizes again
    recipe = tmp_path / "recipe"
    started = run_gan("train", "--run", str(recipe), "--start-from", str(warm_up), "--steps", "6",
                      *common)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert _saved_step_sizes(recipe) == (2e-4, 4e-4)
    moved = load_checkpoint(recipe / "checkpoint.pt").generator.state_dict()
    assert any(not torch.allclose(moved[k], shipped[k], atol=1e-6) for k in shipped)
