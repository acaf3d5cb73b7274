"""Logistic regression on the feature table: default, and tuned by grouped CV."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression

from genre.models import ModelSpec, register
from genre.models.tabular import scaled, tuned


def build_default():
    return scaled(LogisticRegression(max_iter=5000))


def build_tuned():
    """Log of skewed features; the L2 strength C chosen by grouped CV on training tracks."""
    return tuned(
        scaled(LogisticRegression(max_iter=5000), log_skewed=True),
        {"logisticregression__C": [0.01, 0.03, 0.1, 0.3, 1.0]},
    )


register(
    ModelSpec(
        name="logreg",
        input="features",
        build=build_default,
        description="Multinomial logistic regression on standardised features.",
        family="sklearn",
    )
)
register(
    ModelSpec(
        name="logreg_tuned",
        input="features",
        build=build_tuned,
        description="Logistic regression on log-skew + scaled features, C tuned by grouped CV.",
        family="sklearn",
    )
)
