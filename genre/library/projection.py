"""The library map: a 2-D picture of the tracks' embeddings (PCA by SVD, numpy only).

Tracks that sound alike land close together. The two axes have no units, so each end is named
by the tag that grows most towards it (e.g. "mellow ← → metal"), which tells a newcomer what
moving across the map means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genre.library.store import Track


@dataclass
class MapPoints:
    tracks: list[Track]
    xy: np.ndarray  # (n, 2)
    explained: tuple[float, float]  # share of the embeddings' variance along each axis
    axis_words: tuple[tuple[str, str], tuple[str, str]]  # (low end, high end) per axis


def pca_2d(matrix: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Project rows on the first two principal axes; deterministic signs.

    Each axis is oriented so that its largest loading is positive (SVD alone may flip it from
    one run to the next, which would mirror the map). Fewer than two axes: zeros fill in.
    """
    n = len(matrix)
    xy = np.zeros((n, 2))
    if n < 2:
        return xy, (0.0, 0.0)
    centred = matrix.astype(np.float64) - matrix.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    total = float((singular**2).sum())
    explained = [0.0, 0.0]
    for i in range(min(2, len(singular))):
        axis = vt[i]
        if axis[np.argmax(np.abs(axis))] < 0:
            axis = -axis
        xy[:, i] = centred @ axis
        explained[i] = float(singular[i] ** 2 / total) if total > 0 else 0.0
    return xy, (explained[0], explained[1])


def end_words(values: np.ndarray, tracks: list[Track]) -> tuple[str, str]:
    """The tags most correlated with ``values``: (towards low values, towards high values)."""
    names = sorted({tag for t in tracks for tag in t.tags})
    if len(tracks) < 3 or not names or np.ptp(values) == 0:
        return "", ""
    scores = np.array([[t.tags.get(name, 0.0) for name in names] for t in tracks])
    centred = scores - scores.mean(axis=0)
    spread = np.linalg.norm(centred, axis=0) * np.linalg.norm(values - values.mean())
    corr = (centred.T @ (values - values.mean())) / np.where(spread > 0, spread, np.inf)
    low, high = names[int(np.argmin(corr))], names[int(np.argmax(corr))]
    return (low if corr.min() < 0 else ""), (high if corr.max() > 0 else "")


def library_map(tracks: list[Track]) -> MapPoints:
    """Map the tracks that have an embedding of the most common size (one model's output)."""
    shaped = [t for t in tracks if t.embedding is not None]
    if shaped:
        sizes = [t.embedding.shape for t in shaped]  # type: ignore[union-attr]
        common = max(set(sizes), key=lambda s: (sizes.count(s), s))
        shaped = [t for t in shaped if t.embedding.shape == common]  # type: ignore[union-attr]
    if not shaped:
        return MapPoints([], np.zeros((0, 2)), (0.0, 0.0), (("", ""), ("", "")))
    xy, explained = pca_2d(np.stack([t.embedding for t in shaped]))  # type: ignore[misc]
    words = (end_words(xy[:, 0], shaped), end_words(xy[:, 1], shaped))
    return MapPoints(shaped, xy, explained, words)
