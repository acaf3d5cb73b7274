"""k-nearest neighbours on standardised features, k = 10, 15 and 20 (the seeds' choices)."""

from __future__ import annotations

from functools import partial

from sklearn.neighbors import KNeighborsClassifier

from genre.models import ModelSpec, register
from genre.models.tabular import scaled


def build(k: int = 10):
    return scaled(KNeighborsClassifier(n_neighbors=k))


for _k in (10, 15, 20):
    register(
        ModelSpec(
            name=f"knn_{_k}",
            input="features",
            build=partial(build, k=_k),
            description=f"k-nearest neighbours (k = {_k}) on standardised features.",
            family="sklearn",
        )
    )
