"""Epoch checkpoints of spectrogram (torch) runs, so a killed run resumes where it stopped.

After every epoch the trainer saves, atomically, ``epoch-checkpoint.pt`` in the run folder: the
finished folds' results, and the current fold's model, optimiser, schedule, random states and
history. A run that finishes deletes it (its model is saved apart).

Running the same ``python -m genre train`` command again after a kill or a crash resumes: the
new run takes over the checkpoint of the latest unfinished run with the same settings (it is
moved, so two re-runs cannot both take it) and says "resuming from epoch k". ``--no-resume``
starts afresh.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from genre.training.config import RunConfig
from genre.training.reporting import EpochStats, Reporter
from genre.training.torch_loop import TorchResult
from runs.store import STOPPED, Run, RunRegistry

CHECKPOINT_FILE = "epoch-checkpoint.pt"
FORMAT = "genre-epoch-checkpoint/1"
# Settings that do not change what is trained (a resumed run may use another thread count).
IGNORED_FIELDS = frozenset({"threads"})


@dataclass
class FoldOutcome:
    """What a finished fold contributes to the run's results."""

    probs: np.ndarray  # test tracks' probabilities [tracks, classes]
    inference_ms: float  # per test track
    history: list[dict[str, Any]]  # EpochStats as dicts
    best_epoch: int
    train_seconds: float
    windows_seen: int


def comparable(config: RunConfig | dict[str, Any]) -> dict[str, Any]:
    data = config.to_dict() if isinstance(config, RunConfig) else dict(config)
    data = json.loads(json.dumps(data))  # as stored in the registry (tuples become lists)
    return {k: v for k, v in data.items() if k not in IGNORED_FIELDS}


@dataclass
class EpochCheckpoint:
    """The checkpoint file of one run folder."""

    folder: Path
    config: RunConfig

    @property
    def path(self) -> Path:
        return self.folder / CHECKPOINT_FILE

    def save(self, fold: int, done: list[FoldOutcome], fold_state: dict[str, Any]) -> None:
        payload = {
            "format": FORMAT,
            "config": comparable(self.config),
            "fold": fold,
            "done": [asdict(outcome) for outcome in done],
            "fold_state": fold_state,
        }
        tmp = self.path.with_name(f"{CHECKPOINT_FILE}.{os.getpid()}.tmp")
        torch.save(payload, tmp)
        tmp.replace(self.path)  # a kill mid-save leaves the previous epoch's checkpoint

    def load(self) -> tuple[int, list[FoldOutcome], dict[str, Any]] | None:
        """(fold, finished folds, the fold's state) or None when there is nothing to resume."""
        if not self.path.is_file():
            return None
        try:
            payload = torch.load(self.path, map_location="cpu", weights_only=False)
        except (OSError, RuntimeError, EOFError, ValueError):
            return None  # unreadable: the run starts from epoch 1 (and says so)
        if payload.get("format") != FORMAT or payload.get("config") != comparable(self.config):
            return None
        done = [FoldOutcome(**outcome) for outcome in payload["done"]]
        return int(payload["fold"]), done, payload["fold_state"]

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def claim_checkpoint(registry: RunRegistry, config: RunConfig, folder: Path) -> Run | None:
    """Move the epoch checkpoint of the latest unfinished run with ``config`` into ``folder``.

    Returns that earlier run, or None when there is none. Runs whose process died are first
    marked failed (:meth:`RunRegistry.reconcile`); a run still alive is never taken from.
    """
    registry.reconcile()
    wanted = comparable(config)
    for run in registry.list(limit=200):
        if run.status not in STOPPED or comparable(run.config) != wanted:
            continue
        source = run.folder / CHECKPOINT_FILE
        if run.folder == folder or not source.is_file():
            continue
        try:
            os.replace(source, folder / CHECKPOINT_FILE)
        except FileNotFoundError:
            continue  # another re-run took it a moment ago
        return run
    return None


class FoldRunner:
    """The folds of a torch run, with the epoch checkpoint: folds finished before a kill come
    back from it, the fold it stopped in continues after its last saved epoch."""

    def __init__(self, folder: Path, config: RunConfig, reporter: Reporter) -> None:
        self.checkpoint = EpochCheckpoint(folder, config)
        self.reporter = reporter
        found = self.checkpoint.path.is_file()
        loaded = self.checkpoint.load()
        self.resume_fold, self.done, self.state = loaded or (0, [], None)
        if found and loaded is None:
            reporter.log(f"the epoch checkpoint in {folder} is unreadable or for other settings; "
                         "starting from epoch 1")  # fmt: skip
        elif loaded is None:
            reporter.log("starting from epoch 1: no epoch checkpoint found")

    def fold(
        self,
        k: int,
        model: nn.Module,
        train: Callable[..., TorchResult],
        evaluate: Callable[[], np.ndarray],
    ) -> tuple[TorchResult, np.ndarray, float]:
        """(training result, test probabilities, inference ms per track) of fold ``k``.

        ``train`` is :func:`train_torch` with all but ``resume_state``/``on_epoch`` bound;
        ``evaluate`` returns the test tracks' probabilities with ``model``.
        """
        if k <= len(self.done):  # finished before the run was stopped
            outcome = self.done[k - 1]
            self.reporter.log(f"fold {k}: finished before the restart, taken from the checkpoint")
            history = self._replay(outcome.history)
            result = TorchResult(model, history, outcome.best_epoch, outcome.train_seconds,
                                 outcome.windows_seen)  # fmt: skip
            return result, outcome.probs, outcome.inference_ms
        state = self.state if k == self.resume_fold else None
        if state is not None:
            where = f" of fold {k}" if k > 1 or self.done else ""
            self.reporter.log(f"resuming from epoch {state['epoch']}{where} (epoch checkpoint)")
            self._replay(state["history"])
        result = train(
            resume_state=state, on_epoch=lambda fold_state: self.checkpoint.save(k, self.done,
                                                                                 fold_state),
        )  # fmt: skip
        started = time.monotonic()
        probs = evaluate()
        inference_ms = 1000 * (time.monotonic() - started) / max(1, len(probs))
        self.done.append(
            FoldOutcome(probs, inference_ms, [asdict(h) for h in result.history],
                        result.best_epoch, result.train_seconds, result.windows_seen)
        )  # fmt: skip
        return result, probs, inference_ms

    def _replay(self, rows: list[dict[str, Any]]) -> list[EpochStats]:
        """Epochs from the checkpoint into the reporter (the registry's curves of this run)."""
        history = [EpochStats(**row) for row in rows]
        for stats in history:
            self.reporter.epoch_end(stats)
        return history
