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


def similar(
    query: np.ndarray, library: list[Track], *, k: int = 10, exclude: str | None = None
) -> list[Match]:
    """The ``k`` library tracks nearest ``query`` (an embedding), best first.

    ``exclude`` leaves out the track with that path (the query itself, when it is in the
    library). Ties are broken by path, so the answer is deterministic.
    """
    pool = [t for t in with_embeddings(library) if t.path != exclude]
    pool = [t for t in pool if t.embedding is not None and t.embedding.shape == query.shape]
    if not pool or k < 1:
        return []
    matrix = np.stack([t.embedding for t in pool]).astype(np.float64)  # type: ignore[misc]
    everything = np.vstack([matrix, query[None].astype(np.float64)])
    centre = everything.mean(axis=0) if len(everything) > 2 else np.zeros(query.shape)
    points = unit_rows(matrix, centre)
    target = unit_rows(query[None].astype(np.float64), centre)[0]
    scores = points @ target
    order = sorted(range(len(pool)), key=lambda i: (-scores[i], pool[i].path))[:k]
    return [Match(pool[i], float(scores[i])) for i in order]
