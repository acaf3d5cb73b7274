"""Background GAN training jobs: one ``python -m gan train --run-id ID`` process per run.

GAN runs live in the same run registry as the genre classifiers (model :data:`GAN_MODEL`),
so listing, cancelling and reconciling them is :mod:`genre.training.jobs`'s code; only the
command differs. Like there, the process gets its own session: it outlives page reruns, and a
cancel reaches it (and only it) through its process group.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from genre.runs import Run, RunRegistry
from genre.training import jobs as genre_jobs

GAN_MODEL = "gan"  # the ``model`` of every GAN run in the registry
GENERATOR_FOLDER = "generator"  # the exported bundle, inside the run folder
NO_SPLIT = "—"  # a GAN has no train/test split; the registry wants a value

# Reused as they are: a GAN run is cancelled and reconciled like any other run.
cancel = genre_jobs.cancel
log_path = genre_jobs.log_path


@dataclass(frozen=True)
class GanJob:
    """What the Training page lets one choose; everything else keeps the CLI's defaults."""

    steps: int = 300
    batch_size: int = 16
    seed: int = 0
    checkpoint_every: int = 100
    clips_per_genre: int | None = None  # None: all clips of every genre
    data: str | None = None  # genre folders of audio; None: the shared GTZAN clips
    threads: int | None = None  # None: the CLI's default (GAN_THREADS, else 1)

    def to_args(self) -> list[str]:
        args = ["--steps", str(self.steps), "--batch", str(self.batch_size), "--seed",
                str(self.seed), "--checkpoint-every", str(self.checkpoint_every)]  # fmt: skip
        if self.clips_per_genre is not None:
            args += ["--clips-per-genre", str(self.clips_per_genre)]
        if self.data is not None:
            args += ["--data", self.data]
        if self.threads is not None:
            args += ["--threads", str(self.threads)]
        return args

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
        model=GAN_MODEL, split=NO_SPLIT, dataset=dataset_label(job.data), config=job.to_dict()
    )
    cmd = [sys.executable, "-m", "gan", "train", *job.to_args(), "--run-id", run.id,
           "--export", str(run.folder / GENERATOR_FOLDER), "--quiet"]  # fmt: skip
    return genre_jobs.start_process(registry, run, cmd)


def refresh(registry: RunRegistry) -> None:
    """Reap finished children (GAN and classifier runs alike), end runs whose process vanished."""
    genre_jobs.refresh(registry)
