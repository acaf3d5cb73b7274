"""Training feature models (scikit-learn pipelines) on table rows, scored per track.

Feature models have no epochs and need no validation set, so they train on train + valid.
Models that tune themselves (a search over hyper-parameters) get artist-like groups, so their
inner cross-validation never scores a track's neighbours while training on them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from genre import windows
from genre.errors import DatasetError
from genre.training.data import TrackData

GROUP_BLOCK = 10  # neighbouring GTZAN IDs mostly share an artist


@dataclass
class SklearnResult:
    model: Any
    test_probs: np.ndarray  # [test tracks, classes]
    train_seconds: float
    inference_ms_per_track: float
    rows_per_second: float


def artist_groups(data: TrackData, tracks: np.ndarray) -> np.ndarray:
    """A stand-in for artist labels: blocks of neighbouring IDs within a genre."""
    return np.asarray([f"{data.y[t]}-{data.numbers[t] // GROUP_BLOCK}" for t in tracks])


def track_probabilities(model: Any, data: TrackData, tracks: np.ndarray) -> np.ndarray:
    """Mean class probability over each track's rows (one row per track for 30-s tables)."""
    assert data.features is not None and data.row_track is not None
    n_classes = len(data.labels)
    rows = np.flatnonzero(np.isin(data.row_track, tracks))
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(data.features[rows])
        full = np.zeros((len(rows), n_classes))
        full[:, np.asarray(model.classes_, dtype=np.int64)] = proba
    else:  # e.g. an SVM without Platt scaling: one vote per row
        full = np.eye(n_classes)[np.asarray(model.predict(data.features[rows]), dtype=np.int64)]
    owner = data.row_track[rows]
    return windows.track_probabilities(full, owner, tracks)


def _group_splitters(model: Any) -> list[GroupKFold]:
    found = [v for v in model.get_params(deep=True).values() if isinstance(v, GroupKFold)]
    for _, member in getattr(model, "members", []):
        found += _group_splitters(member)
    if isinstance(getattr(model, "cv", None), GroupKFold):
        found.append(model.cv)
    return found


def fit_with_groups(model: Any, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> None:
    """Fit; models that tune by grouped CV get the groups and at most one fold per group."""
    splitters = _group_splitters(model)
    if not splitters:
        model.fit(x, y)
        return
    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        raise DatasetError(
            "Too few distinct tracks to tune this model by grouped cross-validation."
        )
    for splitter in splitters:
        splitter.n_splits = min(splitter.n_splits, n_groups)
    model.fit(x, y, groups=groups)


def train_sklearn(
    model: Any, data: TrackData, train: np.ndarray, test: np.ndarray
) -> SklearnResult:
    assert data.features is not None and data.row_track is not None
    rows = np.flatnonzero(np.isin(data.row_track, train))
    x, y = data.features[rows], data.y[data.row_track[rows]]
    groups = artist_groups(data, data.row_track[rows])
    started = time.monotonic()
    # one BLAS/OpenMP thread: these fits are small, and spinning threads on a busy
    # two-core machine made boosting 5x slower
    with threadpool_limits(1):
        fit_with_groups(model, x, y, groups)
    train_seconds = time.monotonic() - started
    started = time.monotonic()
    probs = track_probabilities(model, data, test)
    inference_ms = 1000 * (time.monotonic() - started) / max(1, len(test))
    return SklearnResult(
        model=model,
        test_probs=probs,
        train_seconds=train_seconds,
        inference_ms_per_track=inference_ms,
        rows_per_second=len(rows) / train_seconds if train_seconds > 0 else 0.0,
    )
