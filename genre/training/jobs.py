"""Background training jobs: one ``python -m genre train --run-id ID`` process per run.

Only the genre-specific part of a launch lives here (registering the run and its command);
starting, cancelling and reaping the process are :mod:`runs.launch`'s, for every kind of run.
"""

from __future__ import annotations

import sys

from genre.paths import REPO_ROOT
from genre.training.config import RunConfig
from runs.launch import start_process
from runs.store import Run, RunRegistry


def launch(config: RunConfig, registry: RunRegistry | None = None) -> Run:
    """Register a run and start its training process; returns the (queued) run."""
    registry = registry or RunRegistry()
    run = registry.create(
        model=config.model, split=config.split, dataset=config.data_source, config=config.to_dict()
    )
    # the worker reads the stored config back: the registry is the config's one channel
    cmd = [sys.executable, "-m", "genre", "train", "--run-id", run.id]
    return start_process(registry, run, cmd, cwd=REPO_ROOT)
