"""A GAN run's training state and the files that keep it: ``checkpoint.pt`` (everything needed
to continue) and ``snapshots/step-N.pt`` (the averaged generator every N steps, for ``gan pick``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from gan.config import CHECKPOINT_FILE, TrainConfig, with_classes
from gan.errors import GanError
from gan.model import OPTIONAL_D_HEADS, Discriminator, Ema, Generator
from gan.pairs import PairHead
from gan.pretrained_judge import HEAD_LR, PretrainedHead
from gan.recordings import (
    class_genre_ids,
    genre_of,
    grown_tables,
    is_class_table,
    label_genres,
)
from genre.labels import GTZAN_GENRES

CHECKPOINT_FORMAT = "gan-checkpoint/1"


@dataclass
class ExtraHead:
    """A discriminator head trained beside the main one, with its own optimiser."""

    network: nn.Module
    optimiser: torch.optim.Optimizer


@dataclass(frozen=True)
class ExtraHeadKind:
    """When a run has such a head, how it is built and at what step size it learns."""

    is_on: Callable[[TrainConfig], bool]
    build: Callable[[TrainConfig, tuple[str, ...]], nn.Module]  # (settings, class labels)
    step_size: Callable[[TrainConfig], float]


def musicnn_head_rows(config: TrainConfig, labels: tuple[str, ...]) -> int:
    """The musicnn head's class table: a row per class, or per genre (musicnn_d_level)."""
    if config.musicnn_d_level == "genre":
        return len(label_genres(labels))
    return config.model.n_classes


# The optional heads, by name; a checkpoint keeps each as "<name>_head" and "opt_<name>". A run
# started (--start-from) with one turned on starts it afresh; one that turns it off drops it.
EXTRA_HEADS: dict[str, ExtraHeadKind] = {
    # the musicnn discriminator's trained head (TrainConfig.musicnn_weight)
    "musicnn": ExtraHeadKind(
        is_on=lambda c: c.musicnn_weight > 0,
        build=lambda c, labels: PretrainedHead(musicnn_head_rows(c, labels)),
        step_size=lambda c: HEAD_LR,
    ),
    # the pair discriminator's head (TrainConfig.pair_weight)
    "pair": ExtraHeadKind(
        is_on=lambda c: c.pair_weight > 0,
        build=lambda c, labels: PairHead(c.model.d_channels[-1], c.model.n_classes),
        step_size=lambda c: c.lr_d,
    ),
}


@dataclass
class GanState:
    """Everything that changes during training."""

    config: TrainConfig
    generator: Generator
    discriminator: Discriminator
    ema: Ema
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    data_rng: torch.Generator
    noise_rng: torch.Generator
    labels: tuple[str, ...] = GTZAN_GENRES
    step: int = 0
    elapsed_s: float = 0.0
    # the optional heads this run trains (EXTRA_HEADS), by name
    extra_heads: dict[str, ExtraHead] = field(default_factory=dict)
    # each class's genre id (gan.recordings.class_genre_ids), worked out once from the labels
    genre_ids: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.genre_ids = class_genre_ids(self.labels)

    @classmethod
    def fresh(cls, config: TrainConfig, labels: tuple[str, ...] = GTZAN_GENRES) -> GanState:
        if config.model.n_classes != len(labels):
            raise GanError(
                f"The model has {config.model.n_classes} classes but {len(labels)} labels."
            )
        torch.manual_seed(config.seed)  # weight initialisation
        generator = Generator(config.model)
        discriminator = Discriminator(
            config.model,
            auxiliary=config.aux_weight > 0,
            local=config.local_weight > 0,
            projection_of=class_genre_ids(tuple(labels)) if config.d_level == "genre" else None,
        )
        # every optimiser's step size and betas are set by apply_step_sizes, below
        state = cls(
            config=config,
            generator=generator,
            discriminator=discriminator,
            ema=Ema.of(generator, decay=config.ema_decay),
            opt_g=torch.optim.Adam(generator_groups(generator, config)),
            opt_d=torch.optim.Adam(discriminator.parameters()),
            data_rng=torch.Generator().manual_seed(config.seed + 1),
            noise_rng=torch.Generator().manual_seed(config.seed + 2),
            labels=tuple(labels),
        )
        for name, kind in EXTRA_HEADS.items():
            if kind.is_on(config):
                network = kind.build(config, tuple(labels))
                state.extra_heads[name] = ExtraHead(network, torch.optim.Adam(network.parameters()))
        state.apply_step_sizes()
        # Channels-last weights spare oneDNN's CPU convolutions their layout copies; same
        # values, faster steps (bench/bench_gan_train.py). Exports are made contiguous again.
        return state.in_layout(torch.channels_last)

    @property
    def class_genres(self) -> torch.Tensor:
        """Each class's genre id [n_classes] (gan.recordings.class_genre_ids), on the device."""
        return self.genre_ids.to(self.device)

    def musicnn_classes(self, classes: torch.Tensor) -> torch.Tensor:
        """The rows of the musicnn head's class table that ``classes`` [B] are judged under:
        their own, or their genres' (TrainConfig.musicnn_d_level)."""
        if self.config.musicnn_d_level == "genre":
            return self.class_genres[classes]
        return classes

    @property
    def musicnn_head(self) -> PretrainedHead | None:
        head = self.extra_heads.get("musicnn")
        return None if head is None else cast(PretrainedHead, head.network)

    @property
    def pair_head(self) -> PairHead | None:
        head = self.extra_heads.get("pair")
        return None if head is None else cast(PairHead, head.network)

    def step_sizes(self) -> list[tuple[torch.optim.Optimizer, tuple[float, ...]]]:
        """Each optimiser with the step size of each of its parameter groups."""
        config = self.config
        extra = [(head.optimiser, (EXTRA_HEADS[name].step_size(config),))
                 for name, head in self.extra_heads.items()]  # fmt: skip
        generator: tuple[float, ...] = (config.lr_g,)
        if config.condition == "recording":  # the class tables' group (generator_groups)
            generator = (config.lr_g, config.lr_g * config.table_lr_scale)
        return [(self.opt_g, generator), (self.opt_d, (config.lr_d,)), *extra]

    def apply_step_sizes(self) -> None:
        """Set every optimiser's step size and betas from the run's settings. Loading an
        optimiser's state also loads the step size it was saved with, so without this a run
        started (--start-from) with a new --lr-g or --lr-d would go on at the old one."""
        betas = (self.config.beta1, self.config.beta2)
        for optimiser, rates in self.step_sizes():
            for group, rate in zip(optimiser.param_groups, rates, strict=True):
                group["lr"], group["betas"] = rate, betas

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    def to_device(self, device: str | torch.device) -> GanState:
        """This state with its networks and optimiser state on ``device`` (changed in place;
        returned for chaining). The random streams stay on the CPU, so a run draws the same
        noise and batches on any device and its checkpoint resumes anywhere."""
        heads = self.extra_heads.values()
        for network in (self.generator, self.discriminator, self.ema.model,
                        *(head.network for head in heads)):  # fmt: skip
            network.to(device)
        for optimiser in (self.opt_g, self.opt_d, *(head.optimiser for head in heads)):
            for values in optimiser.state.values():
                for key, value in values.items():
                    if isinstance(value, torch.Tensor) and key != "step":
                        values[key] = value.to(device)
        return self

    def in_layout(self, memory_format: torch.memory_format) -> GanState:
        """This state with every network's weights in ``memory_format`` (changed in place, so
        the optimisers keep their parameters; returned for chaining)."""
        for network in (self.generator, self.discriminator, self.ema.model):
            network.to(memory_format=memory_format)
        return self

    def to_checkpoint(self) -> dict[str, Any]:
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "labels": list(self.labels),
            "step": self.step,
            "elapsed_s": self.elapsed_s,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "ema": self.ema.model.state_dict(),
            "ema_updates": self.ema.updates,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "data_rng": self.data_rng.get_state(),
            "noise_rng": self.noise_rng.get_state(),
        }
        for name, head in self.extra_heads.items():
            checkpoint[f"{name}_head"] = head.network.state_dict()
            checkpoint[f"opt_{name}"] = head.optimiser.state_dict()
        return checkpoint

    @classmethod
    def from_checkpoint(
        cls, data: dict[str, Any], recordings: Callable[[], tuple[str, ...]] | None = None
    ) -> GanState:
        """The state a checkpoint keeps. One whose settings ask for one class per recording
        but whose model still has one per genre (a run just started from a genre generator,
        --start-from) is grown to ``recordings()``, the training data's (gan.recordings)."""
        if data.get("format") != CHECKPOINT_FORMAT:
            raise GanError("This file is not a GAN checkpoint of a known format.")
        try:
            config = TrainConfig.from_dict(data["config"])
        except ValueError as err:
            raise GanError(f"This checkpoint has unusable training settings ({err}).") from err
        labels = tuple(data["labels"])
        if config.condition == "recording" and all(genre_of(label) == label for label in labels):
            if recordings is None:
                raise GanError("This run is to be grown to one class per recording: train it "
                               "on its recordings to do so.")  # fmt: skip
            return cls.grown(data, config, recordings())
        state = cls.fresh(config, labels)
        state.generator.load_state_dict(data["generator"])
        same_heads = load_discriminator(state.discriminator, data["discriminator"])
        state.ema.model.load_state_dict(data["ema"])
        state.ema.updates = int(data["ema_updates"])
        state.opt_g.load_state_dict(data["opt_g"])
        if same_heads:  # else its optimiser starts afresh: its parameters are not the same
            state.opt_d.load_state_dict(data["opt_d"])
        state.data_rng.set_state(data["data_rng"])
        state.noise_rng.set_state(data["noise_rng"])
        state.step = int(data["step"])
        state.elapsed_s = float(data["elapsed_s"])
        for name, head in state.extra_heads.items():  # one turned on part-way starts afresh
            if f"{name}_head" in data:
                load_extra_head(head, data[f"{name}_head"], data[f"opt_{name}"])
        state.apply_step_sizes()  # the settings' step sizes, not those the state was saved with
        return state

    @classmethod
    def grown(
        cls, data: dict[str, Any], config: TrainConfig, recordings: tuple[str, ...]
    ) -> GanState:
        """A genre checkpoint's state with one class per recording: the generator's class
        tables grown so it draws what it drew (gan.recordings.grown_tables); the discriminator,
        its heads and the optimisers start afresh, as their class rows would not fit."""
        genres = tuple(data["labels"])
        state = cls.fresh(with_classes(config, len(recordings)), recordings)
        state.generator.load_state_dict(grown_tables(data["generator"], genres, recordings))
        state.ema.model.load_state_dict(grown_tables(data["ema"], genres, recordings))
        state.ema.updates = int(data["ema_updates"])
        state.data_rng.set_state(data["data_rng"])
        state.noise_rng.set_state(data["noise_rng"])
        state.step = int(data["step"])
        state.elapsed_s = float(data["elapsed_s"])
        return state


def generator_groups(generator: Generator, config: TrainConfig) -> list[dict[str, Any]]:
    """The generator's parameters for its optimiser: with one class per recording, the class
    tables in a second group, which learns at ``table_lr_scale`` times the step size."""
    named = list(generator.named_parameters())
    if config.condition != "recording":
        return [{"params": [p for _, p in named]}]
    return [{"params": [p for name, p in named if not is_class_table(name)]},
            {"params": [p for name, p in named if is_class_table(name)]}]  # fmt: skip


def load_extra_head(head: ExtraHead, weights: dict[str, Any], optimiser: dict[str, Any]) -> None:
    """Load a checkpoint's optional head and its optimiser. One whose class table changed size
    (a run started with another --musicnn-d-level) keeps every weight that still fits; the
    table and the optimiser start afresh."""
    expected = head.network.state_dict()
    fits = {k: v for k, v in weights.items() if k in expected and v.shape == expected[k].shape}
    if len(fits) == len(weights) == len(expected):
        head.network.load_state_dict(weights)
        head.optimiser.load_state_dict(optimiser)
        return
    head.network.load_state_dict(fits, strict=False)


def load_discriminator(discriminator: Discriminator, weights: dict[str, Any]) -> bool:
    """Load a checkpoint's discriminator; True when it had the same heads. A run started
    (--start-from) with an optional head turned on or off (the local head, the AC-GAN genre
    head) keeps the trained trunk and the heads both have; a head turned on starts afresh, one
    turned off is dropped."""
    expected = discriminator.state_dict()
    table = "embed.weight_orig"
    rows = discriminator.projection_of
    if rows is not None and table in weights and weights[table].shape != expected[table].shape:
        # a per-class projection judged by genre from now on: each genre's row starts as the
        # mean of its classes' rows; the power iteration's vector starts afresh
        old = weights[table]
        summed = torch.zeros_like(expected[table]).index_add_(0, rows, old)
        counts = torch.bincount(rows, minlength=len(summed)).clamp(min=1)[:, None]
        weights = {**weights, table: summed / counts, "embed.weight_u": expected["embed.weight_u"]}
        discriminator.load_state_dict(weights)
        return False
    if set(weights) == set(expected):
        discriminator.load_state_dict(weights)
        return True
    optional = tuple(f"{head}." for head in OPTIONAL_D_HEADS)
    kept = {k: v for k, v in weights.items() if k in expected or not k.startswith(optional)}
    missing, unexpected = discriminator.load_state_dict(kept, strict=False)
    if unexpected or any(not key.startswith(optional) for key in missing):
        discriminator.load_state_dict(kept)  # raises, naming what does not fit
    return False


def save_checkpoint(state: GanState, path: Path) -> None:
    """Atomic write: a crash mid-save leaves the previous checkpoint intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state.to_checkpoint(), tmp)
    tmp.replace(path)


SNAPSHOT_DIR = "snapshots"


def snapshot_path(run_dir: Path, step: int) -> Path:
    return run_dir / SNAPSHOT_DIR / f"step-{step:07d}.pt"


def save_snapshot(state: GanState, run_dir: Path) -> Path:
    """The EMA generator at this step (atomic), for choosing the shipped step afterwards, and
    the discriminator of that step, which may ship beside it as its critic (gan.critic)."""
    path = snapshot_path(run_dir, state.step)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    kept = {"step": state.step, "ema": state.ema.model.state_dict(),
            "discriminator": state.discriminator.state_dict()}  # fmt: skip
    torch.save(kept, tmp)
    tmp.replace(path)
    return path


def list_snapshots(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, file) of every snapshot of the run, by step."""
    found = []
    for path in (run_dir / SNAPSHOT_DIR).glob("step-*.pt"):
        stem = path.stem.removeprefix("step-")
        if stem.isdigit():
            found.append((int(stem), path))
    return sorted(found)


def export_state(run_dir: Path, snapshot: Path | None = None) -> GanState:
    """The state a run's export starts from: its checkpoint; or, where only the run's
    snapshots and ``run.json`` came back (a run trained on a lent GPU machine, whose 33 MB
    checkpoint need not travel), a state of the run's settings, the snapshot giving the weights."""
    checkpoint = run_dir / CHECKPOINT_FILE
    if checkpoint.is_file():
        return load_checkpoint(checkpoint)
    info = run_dir / "run.json"
    if snapshot is None or not info.is_file():
        raise GanError(f"There is no checkpoint in {run_dir} to export (without one, export a "
                       "snapshot of a run folder that keeps its run.json).")  # fmt: skip
    try:
        settings = json.loads(info.read_text(encoding="utf-8"))
        config, labels = TrainConfig.from_dict(settings["config"]), tuple(settings["labels"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise GanError(f"The run's settings in {info} cannot be read ({err}).") from err
    return GanState.fresh(config, labels)


def load_checkpoint(
    path: Path, recordings: Callable[[], tuple[str, ...]] | None = None
) -> GanState:
    """``recordings``: gives the training data's, to grow a run just started from a genre
    generator to one class per recording (GanState.from_checkpoint)."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as err:
        raise GanError(f"The checkpoint {path} cannot be read: {err}") from err
    return GanState.from_checkpoint(data, recordings)
