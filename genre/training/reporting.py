"""Where a run's progress goes: the console, and for registered runs the run registry."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from runs.stop import StopRequest
from runs.store import RunRegistry

STEP_INTERVAL_S = 1.0  # progress rows at most this often: the page polls every ~2 s


@dataclass
class EpochStats:
    fold: int
    epoch: int
    train_loss: float | None
    train_acc: float | None
    val_loss: float | None = None
    val_acc: float | None = None

    def describe(self) -> str:
        parts = [f"epoch {self.epoch}"]
        for name, value, fmt in (
            ("train loss", self.train_loss, ".3f"),
            ("train acc", self.train_acc, ".1%"),
            ("val loss", self.val_loss, ".3f"),
            ("val acc", self.val_acc, ".1%"),
        ):
            if value is not None:
                parts.append(f"{name} {value:{fmt}}")
        return ", ".join(parts)


class Reporter:
    """Console reporter; subclasses also record into the registry.

    With ``stop``, every phase, fold, file and step reported first checks for a Cancel
    (:meth:`StopRequest.check`), so a cancel whose raise C code swallowed still ends the run.
    """

    def __init__(
        self, stream: TextIO | None = None, log_file: Path | None = None,
        stop: StopRequest | None = None,
    ) -> None:  # fmt: skip
        self.stream = stream if stream is not None else sys.stderr
        self.log_file = log_file
        self.stop = stop
        self.folds = 1
        self.epochs = 1
        self.fold = 1
        self._started = time.monotonic()
        self._fold_started = time.monotonic()
        self._last_step = 0.0

    def log(self, message: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {message}"
        print(line, file=self.stream, flush=True)
        if self.log_file is not None:
            with open(self.log_file, "a", encoding="utf-8") as log:
                log.write(line + "\n")

    def checkpoint(self) -> None:
        """Raise :class:`runs.stop.RunCancelled` if the run was cancelled."""
        if self.stop is not None:
            self.stop.check()

    def phase(self, name: str) -> None:
        self.checkpoint()
        self.log(name)

    def plan(self, folds: int, epochs: int) -> None:
        self.folds, self.epochs = max(1, folds), max(1, epochs)

    def fold_started(self, fold: int) -> None:
        self.checkpoint()
        self.fold = fold
        self._fold_started = time.monotonic()
        if self.folds > 1:
            self.log(f"fold {fold}/{self.folds}")

    def eta(self, epoch: int, step: int, steps: int) -> float | None:
        """Seconds left, from the pace of this fold so far (None until there is a pace)."""
        done_in_fold = (epoch - 1) + (step / steps if steps else 0.0)
        if done_in_fold <= 0:
            return None
        per_epoch = (time.monotonic() - self._fold_started) / done_in_fold
        left = (self.epochs - done_in_fold) + (self.folds - self.fold) * self.epochs
        return max(0.0, left * per_epoch)

    def step(self, epoch: int, step: int, steps: int, *, force: bool = False) -> None:
        self.checkpoint()
        now = time.monotonic()
        if force or now - self._last_step >= STEP_INTERVAL_S or step == steps:
            self._last_step = now
            self.record_step(epoch, step, steps, self.eta(epoch, step, steps))

    def record_step(self, epoch: int, step: int, steps: int, eta_s: float | None) -> None:
        pass  # the console gets epochs only

    def epoch_end(self, stats: EpochStats) -> None:
        # no check here: the epoch just trained is recorded and checkpointed first (the next
        # step checks)
        prefix = f"fold {stats.fold}/{self.folds} " if self.folds > 1 else ""
        self.log(prefix + stats.describe())


class LineReporter(Reporter):
    """Log lines to ``say`` and no epoch lines: for runs inside another command (the
    benchmark, the shipped head's reference figures) whose own output is the point."""

    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__()
        self._say = say

    def log(self, message: str) -> None:
        self._say(message)

    def epoch_end(self, stats: EpochStats) -> None:
        pass


class RegistryReporter(Reporter):
    def __init__(
        self, registry: RunRegistry, run_id: str, stream: TextIO | None = None,
        log_file: Path | None = None, stop: StopRequest | None = None,
    ) -> None:  # fmt: skip
        super().__init__(stream, log_file, stop)
        self.registry = registry
        self.run_id = run_id

    def phase(self, name: str) -> None:
        super().phase(name)
        self.registry.progress(self.run_id, phase=name)

    def plan(self, folds: int, epochs: int) -> None:
        super().plan(folds, epochs)
        self.registry.progress(self.run_id, folds=self.folds, epochs=self.epochs)

    def fold_started(self, fold: int) -> None:
        super().fold_started(fold)
        self.registry.progress(self.run_id, phase="training", fold=fold, epoch=0, step=0)

    def record_step(self, epoch: int, step: int, steps: int, eta_s: float | None) -> None:
        self.registry.progress(
            self.run_id, fold=self.fold, epoch=epoch, step=step, steps=steps, eta_s=eta_s
        )

    def epoch_end(self, stats: EpochStats) -> None:
        super().epoch_end(stats)
        self.registry.add_epoch(
            self.run_id,
            fold=stats.fold,
            epoch=stats.epoch,
            train_loss=stats.train_loss,
            train_acc=stats.train_acc,
            val_loss=stats.val_loss,
            val_acc=stats.val_acc,
        )
