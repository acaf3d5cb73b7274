"""Which tracks sound alike.

Each track is a point: its mean musicnn embedding, centred on the library's mean (the
embedding is a ReLU output, all positive, so raw cosines are all close to 1 and say little),
scaled to unit length. Similarity is the cosine between points, in [-1, 1]. The genre head's
probabilities are *not* used: the shipped head was trained on the shared clips, so using it
would flatter any measurement on them (README, "Similarity").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genre.library.store import Track
from genre.verdict import display_name


@dataclass
class Match:
    track: Track
    similarity: float

    def as_dict(self) -> dict[str, object]:
        """The ``library similar --json`` contract."""
        return {
            "file": self.track.path,
            "similarity": round(self.similarity, 6),
            "genre": self.track.genre,
        }

    def reason(self, query_genre: str | None, query_tags: dict[str, float]) -> str:
        """One plain line: what the two tracks share (``query_tags`` highest first)."""
        shared = [t for t in self.track.top_tags() if t in set(list(query_tags)[:5])]
        genre = display_name(self.track.genre or "?")
        parts = []
        if query_genre and self.track.genre == query_genre:
            parts.append(f"both {genre}")
        else:
            parts.append(f"{genre} (yours: {display_name(query_genre or '?')})")
        if shared:
            parts.append("both sound like " + ", ".join(shared[:3]))
        return "; ".join(parts) + " · " + closeness(self.similarity)


def closeness(similarity: float) -> str:
    """The centred cosine in words (a negative percentage would puzzle anyone)."""
    for floor, words in CLOSENESS_WORDS:
        if similarity >= floor:
            return words.format(similarity)
    return "little in common, the nearest there is"


CLOSENESS_WORDS = (
    (0.6, "very close in sound ({:.0%})"),
    (0.3, "close in sound ({:.0%})"),
    (0.0, "somewhat alike ({:.0%})"),
)


def unit_rows(matrix: np.ndarray, centre: np.ndarray) -> np.ndarray:
    centred = matrix - centre
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.where(norms > 0, norms, 1.0)


def with_embeddings(tracks: list[Track]) -> list[Track]:
    return [t for t in tracks if t.embedding is not None]


class EmbeddingIndex:
    """Library embeddings ready for queries: built once per library state, asked many times.

    Rows are kept centred on their own mean (``offset``) in float64, so that the centre a query
    needs (the mean of the other tracks and the query) is a small shift ``d`` from it and the
    cosine follows from two matrix-vector products, with no (n, d) temporary per query:
    ``(y - d) · (q - d) = y · q' - d · q'`` and ``|y - d|² = |y|² - 2 y · d + |d|²``.
    """

    def __init__(self, matrix: np.ndarray, paths: list[str]) -> None:
        self.paths = list(paths)
        self.position = {p: i for i, p in enumerate(self.paths)}
        raw = np.asarray(matrix, dtype=np.float64).reshape(len(self.paths), -1)
        self.total = raw.sum(axis=0)
        self.offset = self.total / len(raw) if len(raw) else self.total
        self.rows = raw - self.offset
        self.squares = np.einsum("ij,ij->i", self.rows, self.rows)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.rows.shape[1:]

    def nearest(
        self, query: np.ndarray, *, k: int = 10, exclude: str | None = None
    ) -> list[tuple[int, float]]:
        """``(row, cosine)`` of the ``k`` nearest rows, best first, ties broken by row order."""
        skip = self.position.get(exclude) if exclude is not None else None
        n = len(self.paths) - (skip is not None)
        if n < 1 or k < 1 or query.shape != self.shape:
            return []
        q = query.astype(np.float64)
        if n + 1 > 2:  # the centre: the mean of the pool and the query (as ever)
            pool_sum = self.total - (self.rows[skip] + self.offset if skip is not None else 0)
            centre = (pool_sum + q) / (n + 1)
        else:
            centre = np.zeros(self.shape)
        shift = centre - self.offset
        target = q - centre
        target /= np.linalg.norm(target) or 1.0
        dots = self.rows @ target - float(shift @ target)
        norms2 = self.squares - 2.0 * (self.rows @ shift) + float(shift @ shift)
        norms = np.sqrt(np.maximum(norms2, 0.0))
        scores = dots / np.where(norms > 1e-12, norms, 1.0)
        if skip is not None:
            scores[skip] = -np.inf
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in order if i != skip]


def similar(
    query: np.ndarray, library: list[Track], *, k: int = 10, exclude: str | None = None
) -> list[Match]:
    """The ``k`` library tracks nearest ``query`` (an embedding), best first.

    ``exclude`` leaves out the track with that path (the query itself, when it is in the
    library). Ties are broken by path, so the answer is deterministic.
    """
    pool = [t for t in with_embeddings(library) if t.embedding.shape == query.shape]  # type: ignore[union-attr]
    pool.sort(key=lambda t: t.path)
    if not pool:
        return []
    index = EmbeddingIndex(np.stack([t.embedding for t in pool]), [t.path for t in pool])  # type: ignore[misc]
    return [Match(pool[i], score) for i, score in index.nearest(query, k=k, exclude=exclude)]
