"""Shared pieces of the zoo's feature-table models (registers no model).

Feature models are scikit-learn pipelines. Variance-type features (spectral and MFCC
variances) span several orders of magnitude; :class:`SkewLog` takes their log, which is the
single most useful honest change for linear models and SVMs on the GTZAN table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

SKEW_THRESHOLD = 2.0


class SkewLog(TransformerMixin, BaseEstimator):
    """Log of the non-negative columns whose skewness exceeds a threshold (found at fit)."""

    def __init__(self, threshold: float = SKEW_THRESHOLD) -> None:
        self.threshold = threshold

    def fit(self, x: np.ndarray, y: Any = None) -> SkewLog:
        x = np.asarray(x, dtype=np.float64)
        centred = x - x.mean(axis=0)
        skew = (centred**3).mean(axis=0) / np.maximum(x.std(axis=0), 1e-12) ** 3
        self.columns_ = np.flatnonzero((x.min(axis=0) >= 0) & (skew > self.threshold))
        positive = np.where(x[:, self.columns_] > 0, x[:, self.columns_], np.nan)
        floor = np.nanmin(positive, axis=0) if len(self.columns_) else np.zeros(0)
        self.offset_ = np.nan_to_num(floor, nan=1.0) / 2  # keeps log finite at zero
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=np.float64, copy=True)
        x[:, self.columns_] = np.log(np.maximum(x[:, self.columns_], 0) + self.offset_)
        return x


def scaled(estimator: Any, *, log_skewed: bool = False) -> Pipeline:
    """Standard scaling (and optionally :class:`SkewLog` first) in front of ``estimator``."""
    steps = [SkewLog()] if log_skewed else []
    return make_pipeline(*steps, StandardScaler(), estimator)


def tuned(pipeline: Pipeline, grid: dict[str, list[Any]]) -> GridSearchCV:
    """Hyper-parameters chosen by grouped CV on the training part only.

    The training loop passes artist-like groups (blocks of neighbouring IDs), so a track's
    neighbours are never in the fold that scores it.
    """
    return GridSearchCV(pipeline, grid, cv=GroupKFold(n_splits=5), n_jobs=1)


class SoftVote(ClassifierMixin, BaseEstimator):
    """Mean of the members' class probabilities; each member may tune itself with groups."""

    def __init__(self, members: list[tuple[str, Any]]) -> None:
        self.members = members

    def fit(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> SoftVote:
        self.fitted_ = []
        for name, member in self.members:
            model = clone(member)
            if isinstance(model, GridSearchCV) and groups is not None:
                model.fit(x, y, groups=groups)
            else:
                model.fit(x, y)
            self.fitted_.append((name, model))
        self.classes_ = self.fitted_[0][1].classes_
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.mean([m.predict_proba(x) for _, m in self.fitted_], axis=0)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(x).argmax(axis=1)]

    @property
    def best_params_(self) -> dict[str, Any]:
        return {
            f"{name}__{k}": v
            for name, m in self.fitted_
            for k, v in getattr(m, "best_params_", {}).items()
        }
