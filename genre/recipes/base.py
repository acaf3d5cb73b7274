"""What a recipe is, what shipping receives, and the figures every shipped card reports."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genre.training.config import RunConfig

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Shipment:
    """A finished run of a recipe, and where its bundle is to be shipped."""

    run_id: str
    run_folder: Path  # holds metrics.json and bundle/ (the run's own bundle)
    config: RunConfig
    metrics: dict[str, Any]  # the run's metrics.json
    data: Path  # the clips folder the run trained on
    out: Path  # the shipped bundle's folder
    options: argparse.Namespace  # the command's options (the recipe's own ones included)
    minutes: float  # the whole recipe so far
    progress: Progress = print

    @property
    def run_bundle(self) -> Path:
        return self.run_folder / "bundle"

    @property
    def fold_accuracies(self) -> list[float]:
        return [float(a) for a in self.metrics["fold_accuracies"]]

    @property
    def confusion(self) -> np.ndarray:
        """Summed over the held-out folds, rows true, columns predicted (the run's classes)."""
        return np.asarray(self.metrics["confusion"], dtype=int)


@dataclass(frozen=True)
class Recipe:
    name: str  # also the shipped bundle's folder under assets/
    help: str
    config: Callable[[Path, argparse.Namespace], RunConfig]  # clips folder, options → the run
    ship: Callable[[Shipment], dict[str, Any]]  # writes the bundle; the --json summary
    configure: Callable[[argparse.ArgumentParser], None] = field(default=lambda _: None)


def cv_metrics(shipment: Shipment, how: str) -> dict[str, Any]:
    """The grouped-CV figures of a shipped bundle's ``bundle.json`` (held-out folds only)."""
    accuracies = shipment.fold_accuracies
    return {
        "grouped_cv_accuracy_mean": {"value": round(float(np.mean(accuracies)), 4), "how": how},
        "grouped_cv_accuracy_std": {
            "value": round(float(np.std(accuracies)), 4),
            "how": "across folds",
        },
        "fold_accuracies": {"value": [round(a, 4) for a in accuracies], "how": "per fold"},
        "confusion_matrix": {
            "value": shipment.confusion.tolist(),
            "how": "rows true, cols predicted",
        },
    }


def confusion_table(labels: list[str], confusion: np.ndarray) -> str:
    """The model cards' Markdown confusion matrix."""
    header = "| true \\ predicted | " + " | ".join(g[:5] for g in labels) + " |"
    rule = "|---" * (len(labels) + 1) + "|"
    rows = [
        f"| {g} | " + " | ".join(str(v) for v in row) + " |"
        for g, row in zip(labels, confusion, strict=True)
    ]
    return "\n".join([header, rule, *rows])


def read_meta(bundle_dir: Path) -> dict[str, Any]:
    """A bundle's ``bundle.json`` as written (every field, the verdict included)."""
    return json.loads((bundle_dir / "bundle.json").read_text(encoding="utf-8"))
