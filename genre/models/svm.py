"""Support vector machines on the feature table: the default RBF SVM and a tuned one."""

from __future__ import annotations

from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC

from genre.models import ModelSpec, register
from genre.models.tabular import scaled, tuned


def build_default():
    return scaled(SVC())


def build_tuned():
    """Log of skewed features; C and γ chosen by grouped CV on the training tracks only."""
    return tuned(
        scaled(SVC(), log_skewed=True),
        {"svc__C": [1, 3, 10, 30], "svc__gamma": ["scale", 0.003, 0.01, 0.03]},
    )


def build_tuned_calibrated():
    """The tuned SVM with calibrated probabilities (Platt scaling), for soft voting."""
    return tuned(
        scaled(CalibratedClassifierCV(SVC(), ensemble=False), log_skewed=True),
        {
            "calibratedclassifiercv__estimator__C": [1, 3, 10],
            "calibratedclassifiercv__estimator__gamma": ["scale", 0.01],
        },
    )


register(
    ModelSpec(
        name="svm",
        input="features",
        build=build_default,
        description="RBF support vector machine on standardised features (default settings).",
        family="sklearn",
    )
)
register(
    ModelSpec(
        name="svm_tuned",
        input="features",
        build=build_tuned,
        description="RBF SVM on log-skew + standardised features, C and γ tuned by grouped CV.",
        family="sklearn",
    )
)
