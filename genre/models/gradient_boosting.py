"""Gradient-boosted trees (histogram-based) on the feature table."""

from __future__ import annotations

from sklearn.ensemble import HistGradientBoostingClassifier

from genre.models import ModelSpec, register


def build():
    # small trees, strong shrinkage and L2: 640 tracks over-fit deep boosting quickly
    return HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=8, l2_regularization=1.0,
        early_stopping=False, random_state=0,
    )  # fmt: skip


register(
    ModelSpec(
        name="gradient_boosting",
        input="features",
        build=build,
        description="Histogram gradient boosting (100 rounds of 8-leaf trees).",
        family="sklearn",
    )
)
