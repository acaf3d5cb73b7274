"""Temporal smoothing of per-frame emotion probabilities, and a mood that changes calmly.

A single frame's argmax flickers (blinks, motion blur). The smoother averages the last
``window`` analysed frames; ``StableMood`` only switches the mood that drives the music once a
new smoothed emotion has led for ``hold_s`` seconds, so the playlist does not churn.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from mood.errors import MoodError
from mood.labels import EMOTIONS


class EmotionSmoother:
    def __init__(self, window: int = 8, max_missing: int = 10) -> None:
        if window < 1 or max_missing < 0:
            raise MoodError("The smoothing window must be at least 1 frame.")
        self.window = window
        self.max_missing = max_missing
        self._history: deque[np.ndarray] = deque(maxlen=window)
        self._missing = 0

    def update(self, probs: np.ndarray | None) -> np.ndarray | None:
        """Add one frame (None: no face); the smoothed probabilities, None once the face is gone."""
        if probs is None:
            self._missing += 1
            if self._missing > self.max_missing:
                self._history.clear()
        else:
            probs = np.asarray(probs, np.float64)
            if probs.shape != (len(EMOTIONS),):
                raise MoodError(f"Expected {len(EMOTIONS)} probabilities, got {probs.shape}.")
            self._missing = 0
            self._history.append(probs)
        return self.current()

    def current(self) -> np.ndarray | None:
        if not self._history:
            return None
        return np.mean(self._history, axis=0)

    def reset(self) -> None:
        self._history.clear()
        self._missing = 0


class StableMood:
    """The emotion that drives recommendations: changes only after ``hold_s`` s of a new lead."""

    def __init__(self, hold_s: float = 2.0) -> None:
        self.hold_s = hold_s
        self.mood: str | None = None
        self.since: float = 0.0
        self._candidate: str | None = None
        self._candidate_since = 0.0

    def update(self, emotion: str | None, now: float) -> str | None:
        if emotion is None or emotion == self.mood:
            self._candidate = None
            return self.mood
        if emotion != self._candidate:
            self._candidate, self._candidate_since = emotion, now
        if self.mood is None or now - self._candidate_since >= self.hold_s:
            self.mood, self.since = emotion, now
            self._candidate = None
        return self.mood
