"""Random forest on the feature table (scaling changes nothing for trees; kept for symmetry)."""

from __future__ import annotations

from sklearn.ensemble import RandomForestClassifier

from genre.models import ModelSpec, register
from genre.models.tabular import scaled


def build(n_estimators: int = 300):
    return scaled(RandomForestClassifier(n_estimators=n_estimators, random_state=0, n_jobs=2))


register(
    ModelSpec(
        name="random_forest",
        input="features",
        build=build,
        description="Random forest (300 trees) on standardised features.",
        family="sklearn",
    )
)
