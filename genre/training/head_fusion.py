"""Tag fusion for a user's musicnn head run, chosen the way the shipped model's is.

The run's held-out windows (every fold's test tracks) give the head's log-probabilities and the
backbone's 50 MSD tags; :func:`genre.fusion_choice.choose_fusion` picks the fusion weight, floor
and temperature by held-out NLL across folds and scores each fold with the settings chosen on
the others (nested). Genres the tag mapping does not name (a user's own classes) get a neutral
prior, so on such data the weight stays 0 and nothing changes. A single split has no folds to
choose on: no fusion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genre.fusion import TAG_GENRES
from genre.fusion_choice import FusionChoice, HeldOut, choose_fusion
from genre.verdict import MIN_HELD_OUT_TRACKS

MIN_FOLDS = 2
HELD_OUT_FILE = "held_out.npz"  # in the run folder: what the fusion was chosen on


@dataclass(frozen=True)
class RunFusion:
    choice: FusionChoice
    held: HeldOut

    @property
    def n_tracks(self) -> int:
        """Held-out tracks the fusion was chosen on."""
        return len(self.held.truth)

    @property
    def used(self) -> bool:
        """Whether the tags change anything (weight 0 is the head alone, maybe re-scaled)."""
        return self.choice.fusion.weight > 0

    def meta(self) -> dict[str, Any]:
        return self.choice.fusion.to_json()

    def fused_window_probs(self) -> np.ndarray:
        """[held-out windows, labels] as served with the chosen fusion, in the input's order."""
        held = self.held
        return self.choice.fusion.fuse(held.log_probs, held.tags)

    def metrics(self) -> dict[str, Any]:
        c = self.choice
        return {
            "fusion": self.meta(),
            "head_cv_accuracy": round(float(np.mean(c.head_fold_acc)), 4),
            "fused_cv_accuracy": round(float(np.mean(c.fused_fold_acc)), 4),
            "fused_nested_cv_accuracy": round(float(np.mean(c.nested_fold_acc)), 4),
        }

    def describe(self) -> str:
        """One paragraph for the run's model card."""
        c, f = self.choice, self.choice.fusion
        if not self.used:
            return (
                f"Tag fusion: off. On the {self.n_tracks} held-out tracks the backbone's tags did "
                "not improve the head (weight 0 had the lowest held-out NLL)."
            )
        return (
            f"Tag fusion: the head is combined with the backbone's own MSD tags (weight "
            f"{f.weight:g}, floor {f.floor:g}, temperature {f.temperature:g}, chosen by held-out "
            f"NLL over the folds). Held-out accuracy on {self.n_tracks} tracks: head alone "
            f"{np.mean(c.head_fold_acc):.0%}, fused {np.mean(c.fused_fold_acc):.0%} (each fold "
            f"scored with settings chosen on the other folds: {np.mean(c.nested_fold_acc):.0%})."
        )


def choose_run_fusion(
    log_probs: np.ndarray,
    tags: np.ndarray,
    window_track: np.ndarray,
    window_fold: np.ndarray,
    truth: np.ndarray,
    labels: Sequence[str],
) -> RunFusion | None:
    """Fusion from held-out windows: head ``log_probs`` (calibrated) and ``tags`` per window,
    the run's track index and fold of each window, ``truth`` per run track. ``None`` when the
    run cannot choose one (one split, too few held-out tracks, no genre the tags name)."""
    present, local = np.unique(window_track, return_inverse=True)
    fold_of = np.zeros(len(present), dtype=int)
    fold_of[local] = window_fold
    named = any(TAG_GENRES.get(label) for label in labels)
    if len(present) < MIN_HELD_OUT_TRACKS or len(np.unique(fold_of)) < MIN_FOLDS or not named:
        return None
    held = HeldOut(log_probs, tags, local, np.asarray(truth)[present], fold_of)
    return RunFusion(choose_fusion(held, tuple(labels)), held)
