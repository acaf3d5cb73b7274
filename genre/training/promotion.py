"""Promotion guard: compare a trained model's held-out accuracy with the model in use.

Promoting a model replaces the one the Classify page serves, so a worse model must not slip in
with one click: the page asks for confirmation when the candidate's held-out accuracy is lower.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The held-out figure a bundle's metrics carry, best first: a user's run writes test_accuracy,
# the shipped bundles their grouped cross-validation mean.
ACCURACY_KEYS = ("test_accuracy", "grouped_cv_accuracy_mean")


def _number(entry: Any) -> float | None:
    value = entry.get("value") if isinstance(entry, dict) else entry
    return float(value) if isinstance(value, int | float) else None


def bundle_accuracy(bundle_dir: Path) -> float | None:
    """The held-out accuracy (0–1) recorded in a bundle, or None when it records none."""
    try:
        meta = json.loads((Path(bundle_dir) / "bundle.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    metrics = meta.get("metrics") if isinstance(meta, dict) else None
    if not isinstance(metrics, dict):
        return None
    for key in ACCURACY_KEYS:
        value = _number(metrics.get(key))
        if value is not None:
            return value
    return None


@dataclass(frozen=True)
class PromotionCheck:
    candidate_accuracy: float | None
    in_use_accuracy: float | None
    in_use_name: str

    @property
    def needs_confirmation(self) -> bool:
        """True when both figures are known and the candidate's is lower."""
        if self.candidate_accuracy is None or self.in_use_accuracy is None:
            return False
        return self.candidate_accuracy < self.in_use_accuracy

    def message(self) -> str:
        return (
            f"This model scored {self.candidate_accuracy:.1%} on held-out tracks; the model in "
            f"use ({self.in_use_name}) scored {self.in_use_accuracy:.1%}. Use the less "
            "accurate model on the Classify page anyway?"
        )


def check_promotion(candidate_bundle: Path, in_use_bundle: Path) -> PromotionCheck:
    return PromotionCheck(
        candidate_accuracy=bundle_accuracy(candidate_bundle),
        in_use_accuracy=bundle_accuracy(in_use_bundle),
        in_use_name=Path(in_use_bundle).name,
    )
