"""What every trainer hands back, and the one cross-validation loop that drives them all.

A trainer (:class:`Trainer`) fits one fold at a time and scores that fold's test tracks
(:class:`FoldResult`); :func:`cross_validate` runs it over the run's splits, and the trainer's
``finish`` saves its model and sums the folds up (:class:`TrainResult`). Which trainer a model
gets is :mod:`genre.training.trainers_registry`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from genre.splits import Split
from genre.training.reporting import Reporter


@dataclass(frozen=True)
class FoldResult:
    """One fold: its test tracks, what the trained model says about them, and its costs."""

    fold: int  # 1-based, as the reporter and the log count folds
    test: np.ndarray  # track indices, in the split's order
    probs: np.ndarray  # [test tracks, classes], as served (mean over a track's windows)
    truth: np.ndarray  # the test tracks' class indices
    train_seconds: float
    inference_ms_per_track: float
    windows_seen: int = 0  # training windows over all epochs (spectrogram and head models)
    best_epoch: int | None = None  # epoch whose weights were kept (trainers with epochs)
    epochs_run: int | None = None
    rows_per_second: float | None = None  # training rows fitted per second (feature models)

    @property
    def predicted(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predicted == self.truth))


@dataclass(frozen=True)
class TrainResult:
    """A trainer's folds and what ``metrics.json`` reports about the trained model.

    The typed fields are the ones several kinds share. ``extra`` holds the figures only one
    kind has (e.g. ``tuned_params`` of a feature model, ``temperature`` of the musicnn head):
    they go into ``metrics.json`` as they are, under their own names, after the shared ones.
    """

    folds: list[FoldResult]
    family: Literal["torch", "sklearn"]
    input: str  # what the model reads: a front-end, "features" or "musicnn embedding"
    weights: int | None  # parameters of the served model (None for feature models)
    train_seconds: float
    inference_ms_per_track: float
    windows_per_second: float | None = None
    best_epoch: int | None = None  # of the kept (last) fold's model
    epochs_run: int | None = None
    checkpoint_from: str | None = None  # which fold's model is saved
    bundle: Path | None = None  # the folder the Classify page can use, when there is one
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tested(self) -> list[int]:
        """Every fold's test tracks, fold by fold."""
        return [int(t) for fold in self.folds for t in fold.test]

    @property
    def y_true(self) -> np.ndarray:
        return np.concatenate([fold.truth for fold in self.folds])

    @property
    def y_pred(self) -> np.ndarray:
        return np.concatenate([fold.predicted for fold in self.folds])

    @property
    def fold_accuracies(self) -> list[float]:
        return [fold.accuracy for fold in self.folds]

    def metrics(self) -> dict[str, Any]:
        """The trainer's part of ``metrics.json`` (optional figures only when there are)."""
        out: dict[str, Any] = {
            "family": self.family,
            "input": self.input,
            "weights": self.weights,
            "train_seconds": self.train_seconds,
            "inference_ms_per_track": self.inference_ms_per_track,
        }
        optional = {
            "windows_per_second": self.windows_per_second,
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "checkpoint_from": self.checkpoint_from,
            "bundle": str(self.bundle) if self.bundle is not None else None,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out.update(self.extra)
        return out


class Trainer(Protocol):
    """Trains one kind of model over a run's folds; built with the run's spec, config, data,
    splits, reporter and folder (see :data:`genre.training.trainers_registry.TRAINERS`)."""

    @property
    def epochs(self) -> int:
        """Epochs per fold, for the progress bar (1 for models without epochs)."""
        ...

    def fit_fold(self, k: int, split: Split) -> FoldResult:
        """Train on ``split``'s training (and validation) tracks; score its test tracks."""
        ...

    def finish(self, folds: list[FoldResult]) -> TrainResult:
        """Save the last fold's model (with ``final_fit``: one trained on every track) and
        bundle into the run folder; sum the folds up."""
        ...


def cross_validate(trainer: Trainer, splits: list[Split], reporter: Reporter) -> list[FoldResult]:
    """Fit and score every split in order; with several folds each fold's accuracy is logged."""
    folds: list[FoldResult] = []
    for k, split in enumerate(splits, 1):
        reporter.fold_started(k)
        fold = trainer.fit_fold(k, split)
        if len(splits) > 1:
            reporter.log(f"fold {k}: test accuracy {fold.accuracy:.1%}")
        folds.append(fold)
    return folds


def pooled_accuracy(folds: list[FoldResult]) -> float:
    """Track-level accuracy over every fold's test tracks (the bundle's and card's figure)."""
    return float(np.mean(np.concatenate([fold.predicted == fold.truth for fold in folds])))


def checkpoint_from(splits: list[Split], final_fit: bool = False) -> str:
    """Which model a run saves: the last fold's, or with ``final_fit`` one trained on every
    track after cross-validation."""
    if final_fit:
        return "all tracks (final fit after cross-validation)"
    return f"fold {len(splits)}" if len(splits) > 1 else "the single split"


def saved_model_tracks(splits: list[Split], n_tracks: int, final_fit: bool) -> np.ndarray:
    """The tracks the saved model was trained on."""
    return np.arange(n_tracks) if final_fit else splits[-1].train


def split_words(split: str, final_fit: bool) -> str:
    """How a bundle's ``trained_on.split`` names the run's split."""
    return f"{split}; the saved model was then trained on every track" if final_fit else split
