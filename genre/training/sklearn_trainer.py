"""The trainer of feature models (scikit-learn) on a per-track feature table.

Each fold fits a fresh pipeline on train + valid (:func:`~genre.training.sklearn_loop.
train_sklearn`); the last fold's pipeline is pickled as ``model.pkl``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from genre.models import ModelSpec
from genre.splits import Split
from genre.training.config import RunConfig
from genre.training.data import TrackData
from genre.training.reporting import Reporter
from genre.training.sklearn_loop import train_sklearn
from genre.training.trainers import FoldResult, TrainResult


class SklearnTrainer:
    """Fits ``spec``'s pipeline on table rows; scores tracks by their rows' mean probability."""

    def __init__(
        self,
        spec: ModelSpec,
        config: RunConfig,
        data: TrackData,
        splits: list[Split],
        reporter: Reporter,
        folder: Path,
    ) -> None:
        self.spec, self.data, self.splits = spec, data, splits
        self.reporter, self.folder = reporter, folder
        self.model: Any = None

    @property
    def epochs(self) -> int:
        return 1

    def fit_fold(self, k: int, split: Split) -> FoldResult:
        n = len(self.splits)
        self.reporter.phase(f"fitting {self.spec.name}" + (f" (fold {k}/{n})" if n > 1 else ""))
        train = np.concatenate([split.train, split.valid])  # no epochs: nothing to validate
        result = train_sklearn(self.spec.build(), self.data, train, split.test)
        self.model = result.model
        self.reporter.step(1, 1, 1, force=True)
        return FoldResult(
            fold=k,
            test=split.test,
            probs=result.test_probs,
            truth=self.data.y[split.test],
            train_seconds=result.train_seconds,
            inference_ms_per_track=result.inference_ms_per_track,
            rows_per_second=result.rows_per_second,
        )

    def finish(self, folds: list[FoldResult]) -> TrainResult:
        with open(self.folder / "model.pkl", "wb") as out:
            pickle.dump(self.model, out)
        best = getattr(self.model, "best_params_", None)  # models that tune themselves
        return TrainResult(
            folds=folds,
            family="sklearn",
            input="features",
            weights=None,
            train_seconds=sum(fold.train_seconds for fold in folds),
            inference_ms_per_track=float(np.mean([f.inference_ms_per_track for f in folds])),
            extra={
                "rows_per_second": float(np.mean([f.rows_per_second or 0.0 for f in folds])),
                "tuned_params": {k: _plain(v) for k, v in best.items()} if best else None,
                "n_features": len(self.data.feature_names),
            },
        )


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)
