"""``python -m genre train-musicnn``: rebuild the default bundle (musicnn + genre head)."""

from __future__ import annotations

from genre.train_musicnn import configure, run

NAME = "train-musicnn"
HELP = "Train the default bundle: frozen musicnn (MSD) backbone + a genre head, grouped CV."

__all__ = ["HELP", "NAME", "configure", "run"]
