"""A soft-voting ensemble of feature models, each tuned by grouped CV on the training part.

Members disagree in useful ways (linear, kernel, discriminant, trees); averaging their
probabilities is steadier on unseen artists than any one of them.
"""

from __future__ import annotations

from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import RandomForestClassifier

from genre.models import ModelSpec, register
from genre.models.logreg import build_tuned as tuned_logreg
from genre.models.svm import build_tuned as tuned_svm
from genre.models.tabular import SoftVote, scaled


def build():
    return SoftVote(
        [
            ("logreg", tuned_logreg()),
            ("svm", tuned_svm()),
            (
                "lda",
                scaled(
                    LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"), log_skewed=True
                ),
            ),
            ("forest", RandomForestClassifier(n_estimators=300, random_state=0, n_jobs=2)),
        ]
    )


register(
    ModelSpec(
        name="feature_ensemble",
        input="features",
        build=build,
        description="Soft vote: tuned logistic regression, tuned SVM, shrinkage LDA, a forest.",
        family="sklearn",
    )
)
