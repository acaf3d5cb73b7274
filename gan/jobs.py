"""Background GAN training jobs: one ``python -m gan train --run-id ID`` process per run.

The run's settings are its stored config (a :class:`GanJob`): the process reads them back
from the registry, so the page never sends them through command-line flags.

GAN runs live in the same run registry as the genre classifiers (model :data:`GAN_MODEL`,
no split), so starting, listing, cancelling and reconciling them is :mod:`runs.launch`'s code;
only the command differs.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from gan.config import CHECKPOINT_FILE, TrainConfig, augment_names
from genre.paths import REPO_ROOT
from runs.launch import start_process
from runs.store import STOPPED, Run, RunRegistry

GAN_MODEL = "gan"  # the ``model`` of every GAN run in the registry
GENERATOR_FOLDER = "generator"  # the exported bundle, inside the run folder


@dataclass(frozen=True)
class GanJob:
    """What the Training page lets one choose; the rest are the CLI's defaults (TrainConfig).

    Only ``steps`` has a page default of its own: a first run from the page should finish in
    minutes, not the hours of the shipped generator's training.
    """

    steps: int = 300
    batch_size: int = TrainConfig.batch_size
    seed: int = TrainConfig.seed
    checkpoint_every: int = TrainConfig.checkpoint_every
    clips_per_genre: int | None = None  # None: all clips of every genre
    data: str | None = None  # genre folders of audio; None: the shared GTZAN clips
    threads: int | None = None  # None: the CLI's default (GAN_THREADS, else 1)
    # the shipped generator's second critic, which listens through the pretrained musicnn
    # tagger (gan.pretrained_judge; 0: off, as the CLI's default): about four times slower
    musicnn_weight: float = TrainConfig.musicnn_weight
    # DiffAugment's transforms (gan.augment); the page adds ``pitch``, as the shipped
    # generator's recipe has, when asked (with_pitch)
    augment: str = TrainConfig.augment
    # then the exported generator is measured with this many clips a genre (0: not), so the
    # Training and Generate pages can say how often its clips are recognised (about 1-2 min)
    measure_per_genre: int = 10
    # a stopped run's folder whose checkpoint this run goes on from (the page's Continue, as
    # ``--start-from``): its weights, optimiser state and step; None: a new run from step 0
    start_from: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GanJob:
        """A run's stored config (unknown keys, e.g. a terminal run's ``run_dir``, left out)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PITCH_AUGMENT = "pitch"


def with_pitch(augment: str = TrainConfig.augment) -> str:
    """The augmentation ``augment`` with the pitch shifts added (kept once if already there)."""
    return augment if moves_pitch(augment) else ",".join(filter(None, (augment, PITCH_AUGMENT)))


def moves_pitch(augment: object) -> bool:
    """Whether a stored ``augment`` setting moves the examples' pitch (False if it is not text)."""
    return isinstance(augment, str) and PITCH_AUGMENT in augment_names(augment)


def continuation(run: Run) -> GanJob | None:
    """The job that goes on training a stopped page run from its checkpoint, with the run's
    own settings; None when there is nothing to continue: the run is not a stopped GAN run,
    had trained all its steps (it stopped while exporting or measuring), saved no checkpoint,
    or came from a terminal (its config lacks the recipe options a terminal run may have used,
    so the page could not repeat them; its note says how to go on)."""
    if not is_gan_run(run) or run.status not in STOPPED or "run_dir" in run.config:
        return None
    if run.steps and run.step >= run.steps:
        return None
    folder = gan_run_dir(run)
    if not (folder / CHECKPOINT_FILE).is_file():
        return None
    return replace(GanJob.from_dict(run.config), start_from=str(folder))


def is_gan_run(run: Run) -> bool:
    return run.model == GAN_MODEL


def gan_run_dir(run: Run) -> Path:
    """Where a GAN run's checkpoint and losses are: its registry folder, unless it was started
    from a terminal with ``--run DIR`` (recorded in its config)."""
    chosen = run.config.get("run_dir")
    return Path(chosen) if chosen else run.folder


def generator_dir(run: Run) -> Path | None:
    """The run's exported generator bundle, once it has finished and exported one."""
    exported = run.metrics.get("generator")
    return Path(exported) if exported else None


def dataset_label(data: str | None) -> str:
    return data or "shared GTZAN clips"


def launch(job: GanJob, registry: RunRegistry | None = None) -> Run:
    """Register a GAN run and start its training process; returns the (queued) run."""
    registry = registry or RunRegistry()
    run = registry.create(
        model=GAN_MODEL, split=None, dataset=dataset_label(job.data), config=job.to_dict()
    )
    cmd = [sys.executable, "-m", "gan", "train", "--run-id", run.id,
           "--export", str(run.folder / GENERATOR_FOLDER), "--quiet"]  # fmt: skip
    return start_process(registry, run, cmd, cwd=REPO_ROOT)
