"""Made-up library rows, written through the real store: for benchmarks and tests of browsing
at sizes no test machine has music for (50 000 tracks). Nothing here is ever shown to a user.

Each row looks like a real one: a genre, 50 tag scores (the model's tag names), genre
probabilities, a 200-d non-negative embedding clustered by genre, a title and an artist.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from genre.labels import GTZAN_GENRES
from genre.library import store
from genre.library.analysis import Analysis, FileStat
from genre.musicnn import MSD_TAGS

BUNDLE = "synthetic@0"
EMBEDDING_SIZE = 200


def analyses(n: int, seed: int = 0, start: int = 0) -> list[Analysis]:
    rng = np.random.default_rng(seed)
    genres = list(GTZAN_GENRES)
    centres = rng.random((len(genres), EMBEDDING_SIZE)).astype(np.float32)
    out = []
    for i in range(start, start + n):
        g = int(rng.integers(len(genres)))
        noise = 0.3 * rng.standard_normal(EMBEDDING_SIZE).astype(np.float32)
        probs = rng.dirichlet(np.ones(len(genres))).round(4).tolist()
        out.append(
            Analysis(
                stat=FileStat(f"/music/{genres[g]}/track{i:06d}.mp3", 3_000_000, 1.7e9 + i),
                sha256=f"{i:064x}",
                duration_s=float(rng.uniform(60, 400)),
                genre=genres[g],
                confidence=float(max(probs)),
                probabilities=dict(zip(genres, probs, strict=True)),
                tags=dict(zip(MSD_TAGS, rng.random(len(MSD_TAGS)).round(4).tolist(), strict=True)),
                embedding=np.maximum(centres[g] + noise, 0.0),
                is_music=True,
                music_score=0.9,
                file_tags={"title": f"Song {i}", "artist": f"Artist {i % 997}"},
            )
        )
    return out


def fill(conn: sqlite3.Connection, n: int, seed: int = 0, bundle: str = BUNDLE) -> None:
    """Write ``n`` made-up tracks with :func:`store.write`, one transaction each (as indexing
    does)."""
    for analysis in analyses(n, seed):
        store.write(conn, analysis, bundle)
