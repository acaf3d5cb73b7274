"""Choosing the tag fusion on held-out tracks of a head's grouped cross-validation: the
weight, floor and temperature of :class:`genre.fusion.TagFusion` that minimise the held-out
tracks' NLL over a small grid, and a nested estimate (every fold scored with the settings
chosen on the other folds, since the choice is made on the same folds).

The run pipeline chooses with it (:mod:`genre.training.head_fusion`); :mod:`genre.fusion_fit`
ships the choice into a bundle, with its verdict thresholds, calibration and card section.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from genre.fusion import TAG_GENRES, TagFusion
from genre.musicnn import MSD_TAGS
from genre.windows import track_probabilities

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
FLOORS = (0.02, 0.05, 0.1, 0.2, 0.5)
TEMPERATURES = (0.7, 0.85, 1.0, 1.2, 1.5)  # re-calibration of the product


@dataclass
class HeldOut:
    """Held-out serving windows of the grouped CV: head log-probs, tags, track."""

    log_probs: np.ndarray  # [windows, labels], with the head's temperature
    tags: np.ndarray  # [windows, 50]
    track: np.ndarray  # [windows]
    truth: np.ndarray  # [tracks]
    fold_of: np.ndarray  # [tracks]

    def save(self, path: Path) -> None:
        np.savez_compressed(path, **{f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def load(cls, path: Path) -> HeldOut:
        with np.load(path) as saved:
            return cls(**{f.name: saved[f.name] for f in fields(cls)})

    def track_probs(self, fusion: TagFusion) -> tuple[np.ndarray, list[np.ndarray]]:
        """Fused probabilities per track (mean of its windows) and per window, by track."""
        window = fusion.fuse(self.log_probs, self.tags)
        n = len(self.truth)
        out = track_probabilities(window, self.track, np.arange(n))
        return out, [window[self.track == i] for i in range(n)]


def _nll(probs: np.ndarray, truth: np.ndarray) -> float:
    return float(-np.mean(np.log(probs[np.arange(len(truth)), truth] + 1e-12)))


def _fold_accuracies(probs: np.ndarray, truth: np.ndarray, fold_of: np.ndarray) -> list[float]:
    right = probs.argmax(axis=1) == truth
    return [float(right[fold_of == k].mean()) for k in np.unique(fold_of)]


@dataclass
class FusionChoice:
    fusion: TagFusion
    grid: list[dict[str, float]]  # every (weight, floor): held-out NLL and accuracy
    head_probs: np.ndarray
    fused_probs: np.ndarray
    fused_windows: list[np.ndarray]
    head_fold_acc: list[float]
    fused_fold_acc: list[float]
    nested_fold_acc: list[float]  # each fold scored with settings chosen on the others
    nested_choices: list[tuple[float, float, float]]
    tags_only_accuracy: float  # the prior alone (no head), track-level


def choose_fusion(held: HeldOut, labels: tuple[str, ...]) -> FusionChoice:
    def make(weight: float, floor: float, temperature: float) -> TagFusion:
        return TagFusion(labels, tuple(MSD_TAGS), weight, floor, TAG_GENRES, temperature)

    folds = np.unique(held.fold_of)
    grid, per_fold_nll, probs_of = [], {}, {}
    settings = [
        (weight, floor, temperature)
        for weight in WEIGHTS
        for floor in (FLOORS if weight else FLOORS[:1])  # weight 0 ignores the floor
        for temperature in TEMPERATURES
    ]
    for key in settings:
        probs, _ = held.track_probs(make(*key))
        probs_of[key] = probs
        grid.append(
            {
                "weight": key[0],
                "floor": key[1],
                "temperature": key[2],
                "nll": round(_nll(probs, held.truth), 4),
                "accuracy": round(float(np.mean(probs.argmax(1) == held.truth)), 4),
            }
        )
        per_fold_nll[key] = [
            _nll(probs[held.fold_of == k], held.truth[held.fold_of == k]) for k in folds
        ]
    best = min(per_fold_nll, key=lambda key: (np.mean(per_fold_nll[key]), key[0]))
    nested_acc, nested_choices = [], []
    for i, k in enumerate(folds):  # settings chosen without fold k, scored on fold k
        others = min(
            per_fold_nll,
            key=lambda key: (np.mean([v for j, v in enumerate(per_fold_nll[key]) if j != i]),
                             key[0]),
        )  # fmt: skip
        nested_choices.append(others)
        in_fold = held.fold_of == k
        right = probs_of[others][in_fold].argmax(1) == held.truth[in_fold]
        nested_acc.append(float(right.mean()))
    fusion = make(*best)
    fused, windows = held.track_probs(fusion)
    prior = np.exp(fusion.log_prior(held.tags))
    tags_only = np.zeros((len(held.truth), len(labels)))
    np.add.at(tags_only, held.track, prior)
    head = probs_of[(0.0, FLOORS[0], 1.0)]
    return FusionChoice(
        fusion, grid, head, fused, windows,
        _fold_accuracies(head, held.truth, held.fold_of),
        _fold_accuracies(fused, held.truth, held.fold_of),
        nested_acc, nested_choices, float(np.mean(tags_only.argmax(1) == held.truth)),
    )  # fmt: skip
