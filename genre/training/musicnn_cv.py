"""The shipped head's cross-validation figures, as its model card reports them.

The head is cross-validated by the run pipeline only (:class:`genre.training.head_loop.
HeadTrainer` in the one CV loop, :func:`genre.training.trainers.cross_validate`): the recipe's
own run, and the halves run below (:func:`genre.training.experiment.unregistered_run`).
:func:`stricter_metrics` adds the card's two reference points: the same pipeline on halves of
every genre's IDs, and plain logistic regression on track-mean embeddings (a finished run's own
figures reach the card as a :class:`genre.training.musicnn_bundle.CrossValidation`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from genre.datasets import Track
from genre.errors import DatasetError
from genre.splits import grouped_kfold
from genre.training.config import RunConfig
from genre.training.experiment import unregistered_run
from genre.training.musicnn_features import WindowFeatures
from genre.training.musicnn_head import HeadConfig


def stricter_metrics(
    run: RunConfig,
    tracks: list[Track],
    labels: np.ndarray,
    feats: WindowFeatures,
    config: HeadConfig,
) -> dict[str, dict]:
    """Two reference figures for the model card (when the data allows them); ``run`` is the
    shipped head's run, ``feats`` its clips' window embeddings."""
    out: dict[str, dict] = {}
    halves = replace(run, folds=2, fold_block=5, final_fit=False)
    try:  # halves of every genre's IDs (0–4 vs 5–9): fewer artists shared across the split
        accuracies = unregistered_run(halves, lambda _: None)[0]["fold_accuracies"]
        out["halves_cv_accuracy_mean"] = {
            "value": round(float(np.mean(accuracies)), 4),
            "how": "2-fold grouped CV, IDs 0–4 vs 5–9 of every genre",
        }
        out["halves_cv_accuracy_std"] = {
            "value": round(float(np.std(accuracies)), 4),
            "how": "2 folds",
        }
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
