"""Linear discriminant analysis on Gaussianised features (log of skewed columns, Yeo-Johnson).

One covariance shared by all genres is a strong prior for 640 training tracks, and it held up
best on unseen artists. The settings were chosen on the training part only: among ~120
candidates (logistic regression, SVMs, trees, boosting, MLPs, feature selection, votes,
stacking), LDA variants led both honest scores, and this one had the best mean of the two
(bar a feature-ablation probe): 51.8 % on the artist-disjoint valid split (trained on the 443
train tracks) and 49.5 % in cross-validation over train + valid that holds out whole runs of
neighbouring IDs lying on one side of the artist-filtered split. On the 290 test tracks it is
no better than the tuned logistic regression (about 55 %): this table's features seem to top
out there.
"""

from __future__ import annotations

from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import PowerTransformer

from genre.models import ModelSpec, register
from genre.models.tabular import SkewLog

# a touch of shrinkage keeps the pooled covariance invertible; more ("auto", 0.1+) scored worse
SHRINKAGE = 0.01


def build() -> Pipeline:
    # Yeo-Johnson (with standardising) makes each column close to Gaussian, as LDA assumes
    lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=SHRINKAGE)
    return make_pipeline(SkewLog(), PowerTransformer(method="yeo-johnson"), lda)


register(
    ModelSpec(
        name="lda",
        input="features",
        build=build,
        description="Linear discriminant analysis on log-skew + Yeo-Johnson features.",
        family="sklearn",
    )
)
