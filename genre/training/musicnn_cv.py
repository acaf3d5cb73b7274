"""The musicnn head's grouped cross-validation on window features, with its calibration.

The shipped head itself is cross-validated by the run pipeline (``python -m genre recipe
musicnn-genre``: :class:`genre.training.head_loop.HeadTrainer` in the one CV loop, with the
same folds and seeds: fold k from ``seed + k``, 0-based). This module's :func:`cross_validate`
reproduces those folds for what needs every held-out window in hand: the tag fusion
(:mod:`genre.fusion_fit`) and the model card's reference figures (:func:`stricter_metrics`).

A fold holds out blocks of neighbouring GTZAN IDs of every genre (GTZAN is ordered by artist),
never windows of one track on both sides. A held-out track is scored exactly as the Classifier
scores it: the mean of its serving windows' softmax probabilities. One temperature is fitted on
the held-out folds' track probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from genre.datasets import Track
from genre.errors import DatasetError
from genre.labels import GTZAN_GENRES
from genre.splits import grouped_kfold
from genre.training.musicnn_features import Progress, WindowFeatures
from genre.training.musicnn_head import (
    HeadConfig,
    fit_head,
    fit_temperature,
    head_logits,
    head_track_probs,
)


@dataclass
class CrossValidation:
    accuracies: list[float]
    confusion: np.ndarray
    track_probs: np.ndarray  # [tracks, classes] out-of-fold, before calibration
    temperature: float
    nll_before: float
    nll_after: float
    fold_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    # Held-out serving windows of every fold: head logits before the temperature, and their
    # rows in the WindowFeatures (for the tags of the same windows).
    window_logits: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    window_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies))


def cross_validate(
    tracks: list[Track],
    labels: np.ndarray,
    feats: WindowFeatures,
    config: HeadConfig,
    progress: Progress = print,
) -> CrossValidation:
    n_classes = len(GTZAN_GENRES)
    folds = grouped_kfold([t.number for t in tracks], config.folds, config.block)
    if len(folds) < 2:
        raise DatasetError(
            f"Cross-validation needs tracks in at least two blocks of {config.block} "
            "neighbouring IDs; add clips with more varied numbers."
        )
    x_all = feats.select(config.features)
    confusion = np.zeros((n_classes, n_classes), dtype=int)
    accuracies = []
    oof_probs = np.zeros((len(tracks), n_classes))
    fold_of = np.full(len(tracks), -1)
    serving_logits: list[torch.Tensor] = []
    serving_tracks: list[np.ndarray] = []
    serving_rows: list[np.ndarray] = []
    for k, (train_idx, test_idx) in enumerate(folds):
        train_mask = np.isin(feats.track, train_idx)
        if not config.shifted_windows:
            train_mask &= feats.serving
        test_mask = np.isin(feats.track, test_idx) & feats.serving
        head = fit_head(
            x_all[train_mask], labels[feats.track[train_mask]], config, n_classes, config.seed + k
        )
        probs = head_track_probs(head, x_all[test_mask], feats.track[test_mask], len(tracks))
        oof_probs[test_idx] = probs[test_idx]
        fold_of[test_idx] = k
        serving_logits.append(head_logits(head, x_all[test_mask]))
        serving_tracks.append(feats.track[test_mask])
        serving_rows.append(np.flatnonzero(test_mask))
        predicted = probs[test_idx].argmax(axis=1)
        for truth, guess in zip(labels[test_idx], predicted, strict=True):
            confusion[truth, guess] += 1
        accuracies.append(float(np.mean(predicted == labels[test_idx])))
        progress(f"fold {k + 1}/{len(folds)}: {accuracies[-1]:.0%} on {len(test_idx)} clips")
    window_logits, window_track = torch.cat(serving_logits), np.concatenate(serving_tracks)
    temperature, before, after = fit_temperature(window_logits, window_track, labels, len(tracks))
    return CrossValidation(
        accuracies, confusion, oof_probs, temperature, before, after, fold_of=fold_of,
        window_logits=window_logits.numpy(), window_rows=np.concatenate(serving_rows),
    )  # fmt: skip


def stricter_metrics(
    tracks: list[Track], labels: np.ndarray, feats: WindowFeatures, config: HeadConfig
) -> dict[str, dict]:
    """Two reference figures for the model card (when the data allows them)."""
    out: dict[str, dict] = {}
    try:  # halves of every genre's IDs (0–4 vs 5–9): fewer artists shared across the split
        halves = cross_validate(
            tracks, labels, feats, replace(config, folds=2, block=5), lambda _: None
        )
        out["halves_cv_accuracy_mean"] = {
            "value": round(halves.mean, 4),
            "how": "2-fold grouped CV, IDs 0–4 vs 5–9 of every genre",
        }
        out["halves_cv_accuracy_std"] = {"value": round(halves.std, 4), "how": "2 folds"}
    except DatasetError:
        pass
    plain = plain_logreg_cv(tracks, labels, feats, config)
    out["plain_logreg_cv_accuracy_mean"] = {
        "value": round(float(np.mean(plain)), 4),
        "how": "same grouped CV, plain logistic regression on track-mean embeddings",
    }
    out["plain_logreg_cv_accuracy_std"] = {"value": round(float(np.std(plain)), 4), "how": "folds"}
    return out


def plain_logreg_cv(
    tracks: list[Track], labels: np.ndarray, feats: WindowFeatures, config: HeadConfig
) -> list[float]:
    """The reference point the issue names: scikit-learn logistic regression on each track's
    mean embedding, same folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = feats.select(config.features)
    means = np.stack([x[(feats.track == i) & feats.serving].mean(0) for i in range(len(tracks))])
    accuracies = []
    for train_idx, test_idx in grouped_kfold(
        [t.number for t in tracks], config.folds, config.block
    ):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000))
        model.fit(means[train_idx], labels[train_idx])
        accuracies.append(float(np.mean(model.predict(means[test_idx]) == labels[test_idx])))
    return accuracies
