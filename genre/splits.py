"""Train/test splits that never leak an artist's neighbouring tracks across the boundary.

GTZAN files are ordered by artist, so tracks with neighbouring IDs usually share one: a fold
holds out whole blocks of consecutive IDs, and all windows of a track stay with the track.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def grouped_kfold(
    numbers: Sequence[int], n_folds: int, block_size: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds over track indices: track ``i`` is tested in fold ``(numbers[i] // block) % k``.

    ``numbers`` are the tracks' GTZAN IDs (``blues.00012`` → 12). Every genre contributes the
    same ID blocks to a fold, so folds stay roughly stratified.
    """
    if n_folds < 2:
        raise ValueError("n_folds must be at least 2")
    ids = np.asarray(numbers, dtype=np.int64)
    fold_of = (ids // block_size) % n_folds
    folds = []
    for fold in range(n_folds):
        test = np.flatnonzero(fold_of == fold)
        train = np.flatnonzero(fold_of != fold)
        if len(test) and len(train):
            folds.append((train, test))
    return folds
