"""A run started from another run's checkpoint: its weights, optimiser state, random streams
and step, trained on with other settings (``python -m gan train --run NEW --start-from OLD``).

Resuming a run keeps the settings it was trained with; this is how to change them part-way
(turn a recipe term off, lower a learning rate, let the noise into every layer of the
generator, gan.noise_layers) without touching the source run. The new folder
gets the source's checkpoint carrying the new settings and the source's loss log up to that
step, then trains on exactly as a resumed run would. ``started_from.json`` records the source
(folder, step, settings) for the model card's reproduce commands (:mod:`gan.start_record`).

OLD may also be a generator bundle (``gan.json`` + weights, such as the shipped
``assets/gan-cgan``): a bundle keeps the averaged generator, so the run starts from those
weights at the bundle's step with new optimiser state; its discriminator is the bundle's critic
when it ships one (``--critic``: the discriminator of its step), else a new one. A new
discriminator cost every run started so from the shipped generator its Fréchet distance for
thousands of steps (docs/generator.md); the critic is the one the generator was trained against.
That is how training goes on from a generator whose run folder is gone.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from gan.bundle import LOG_FILE, GanBundle, load_gan_bundle
from gan.card_training import reproduce_lines
from gan.config import CHECKPOINT_FILE, GanConfig, TrainConfig
from gan.data import DB_CEIL, DB_FLOOR
from gan.errors import GanError
from gan.loss_log import truncate_log
from gan.noise_layers import noise_growth_asked, with_noise_in_every_layer
from gan.start_record import started_from, write_start_record
from gan.state import GanState, load_checkpoint, load_discriminator, save_checkpoint
from gan.widen import widened_state, widths_asked


def start_from(source_dir: Path, run_dir: Path, config: TrainConfig) -> TrainConfig:
    """Set up ``run_dir`` to continue ``source_dir``'s checkpoint with ``config``'s settings;
    returns them with the source's model (a model left at its defaults means "the source's").
    Model options that differ from the source's only in ``g_channels`` widen its generator
    (gan.widen), only in ``noise_into = "every"`` grow its noise maps (gan.noise_layers); any
    other shape is refused: weights cannot change shape otherwise."""
    given = str(source_dir)  # as the user wrote it: the card's reproduce commands reuse it
    source_dir, run_dir = source_dir.resolve(), run_dir.resolve()
    if source_dir == run_dir:
        raise GanError(
            f"--start-from names the run folder itself ({run_dir}): to go on training it, "
            "run without --start-from (it resumes)."
        )
    checkpoint = source_dir / CHECKPOINT_FILE
    is_bundle = not checkpoint.is_file() and (source_dir / "gan.json").is_file()
    if not checkpoint.is_file() and not is_bundle:
        raise GanError(f"There is no checkpoint or generator bundle in {source_dir} to start from.")
    if (run_dir / CHECKPOINT_FILE).is_file():
        raise GanError(
            f"{run_dir} already holds a run: resume it without --start-from, or start from "
            f"{source_dir} in an empty folder."
        )
    bundle = None
    if is_bundle:
        state, bundle = _bundle_state(source_dir)
        log = source_dir / LOG_FILE
    else:
        state, log = load_checkpoint(checkpoint), source_dir / "losses.csv"
    model = state.config.model
    widths = widths_asked(model, config.model)
    noise_grows = noise_growth_asked(model, config.model)
    if widths is None and not noise_grows and config.model not in (model, GanConfig()):
        raise GanError(
            f"The run in {source_dir} has another model shape than the one asked for; "
            "leave out the model options to keep its shape (--g-channels alone widens its "
            "generator; --noise-into every alone lets the noise into every layer of its generator)."
        )
    if config.steps <= state.step:
        raise GanError(
            f"The run in {source_dir} is already at step {state.step}: ask for more --steps."
        )
    before = state.config
    if widths is not None:  # Net2Wider: the wider generator draws what the source drew
        state = widened_state(state, widths)
        model = state.config.model
    if noise_grows:  # new maps from the noise, at zero: it draws what the source drew
        state = with_noise_in_every_layer(state)
        model = state.config.model
    state.config = replace(config, model=model)
    save_checkpoint(state, run_dir / CHECKPOINT_FILE)
    if log.is_file():
        shutil.copyfile(log, run_dir / "losses.csv")
        truncate_log(run_dir / "losses.csv", state.step)
    record: dict[str, Any] = {"run": given, "step": state.step, "config": before.to_dict()}
    # one class per genre to one per recording: grown on the first call, with a new
    # discriminator (GanState.grown)
    grows = before.condition == "genre" and config.condition == "recording"
    if grows:
        record["grown_to_recordings"] = True
    if widths is not None:
        record["widened_from"] = list(before.model.g_channels)
    if noise_grows:
        record["noise_into_every"] = True
    if bundle is not None:
        record["bundle"] = True  # the generator's weights: no optimiser state
        # its discriminator: the bundle's critic, or a new one
        record["critic"] = bundle.critic is not None and not grows
        # How that bundle was made (its evaluation left out), so this run's card can give the
        # whole chain even once the bundle is gone or replaced, as a shipped one is by the next.
        record["commands"] = reproduce_lines(bundle.meta)[:-1]
    elif (earlier := started_from(source_dir)) is not None:
        record["started_from"] = earlier  # so the card can rebuild the whole chain
    write_start_record(run_dir, record)
    return state.config


def _bundle_state(folder: Path) -> tuple[GanState, GanBundle]:
    """A training state whose generator (live and averaged) holds the bundle's weights, at the
    bundle's step and with its settings, beside its critic as the discriminator (when it ships
    one, else a new one) and new optimisers; and the bundle, loaded once."""
    bundle = load_gan_bundle(folder)
    if (bundle.db_floor, bundle.db_ceil) != (DB_FLOOR, DB_CEIL):
        scale = f"{bundle.db_floor:g} to {bundle.db_ceil:g} dB"
        raise GanError(f"The generator at {folder} was trained on another level scale ({scale}): "
                       "it cannot be trained on here.")  # fmt: skip
    training = bundle.meta.get("training")
    step = training.get("steps") if isinstance(training, dict) else None
    if not isinstance(step, int) or step < 0:
        raise GanError(f"The generator at {folder} does not say how many steps it was trained.")
    settings, seconds = training.get("config", {}), training.get("seconds", 0.0)
    try:
        if isinstance(settings, dict):  # else from_dict says what they are instead
            settings = {**settings, "model": bundle.meta["model"]}
        stored = TrainConfig.from_dict(settings)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ValueError(f"its training time is {seconds!r}, not a number of seconds")
    except ValueError as err:
        raise GanError(
            f"The generator at {folder} has unusable training settings ({err})."
        ) from err
    state = GanState.fresh(replace(stored, steps=step), bundle.class_labels)
    weights = bundle.generator.state_dict()
    state.generator.load_state_dict(weights)
    state.ema.model.load_state_dict(weights)
    state.ema.updates = step  # a settled average, as it was when exported
    state.step = step
    state.elapsed_s = seconds
    if bundle.critic is not None:
        try:
            load_discriminator(state.discriminator, bundle.critic.state_dict())
        except RuntimeError as err:
            raise GanError(f"The critic shipped with {folder} does not fit its own "
                           f"discriminator settings: {err}") from err  # fmt: skip
    return state, bundle
