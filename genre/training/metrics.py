"""Track-level classification metrics: accuracy, macro precision/recall/F1, confusion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def classification_report(
    y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]
) -> dict[str, Any]:
    """Everything the comparison table and the per-genre report show, JSON-ready."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    present = support > 0  # macro averages over the genres that are in the test set
    return {
        "test_accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else 0.0,
        "macro_precision": float(precision[present].mean()) if present.any() else 0.0,
        "macro_recall": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "n_test": len(y_true),
        "labels": list(labels),
        "confusion": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
        "per_genre": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
    }


def summarise_folds(fold_accuracies: Sequence[float]) -> dict[str, float]:
    values = np.asarray(fold_accuracies, dtype=np.float64)
    return {"kfold_mean": float(values.mean()), "kfold_std": float(values.std())}
