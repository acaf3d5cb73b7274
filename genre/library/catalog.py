"""The library as columns, loaded once per database state: what the Library page browses.

Decoding 50 000 rows into :class:`~genre.library.store.Track` objects takes seconds and ~450 MB
(each holds a dict of 50 tag scores), far too much for every click. A :class:`Catalog` reads the
rows once into arrays (names, genres, lengths, a tag-score matrix, the embeddings, the map's
projection) and is kept, per database file, until :func:`~genre.library.store.data_state` says
a row changed. Filters, the table, the map's sample, typed search and "More like this" then work
on those arrays; full rows are read back only for the handful of tracks a page shows.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genre.library import projection, store
from genre.library.browse import MOOD_FLOOR, MOOD_TAGS, MOODS_PER_TRACK, TrackFilter
from genre.library.similarity import EmbeddingIndex, Match
from genre.verdict import display_name

MAP_POINTS = 5000  # the map draws at most this many dots (a fixed sample); search covers all
SEARCH_LIMIT = 200  # "More like this" offers at most this many typed-search matches
RELOAD_WHILE_WRITING_S = 1.0  # while indexing runs, a catalog this slow to load is kept
CACHED_LIBRARIES = 4  # database files kept in memory at once (tests open several)
COLUMNS = (
    "path, status, error, title, artist, genre, confidence, duration_s, tags, embedding, bundle"
)
_MOODS = sorted(MOOD_TAGS)  # alphabetical, so ties between mood words go as mood_words() does


@dataclass
class Catalog:
    """The analysed ("ok") tracks of one database state, ordered by path, as columns."""

    db_path: Path
    state: tuple[int, int]
    paths: list[str]
    names: list[str]  # the title tag, else the file name without its extension
    titles: list[str | None]  # the title tag as found
    artists: list[str]
    genres: np.ndarray  # object: str or None
    confidence: np.ndarray  # float, nan when unknown
    duration: np.ndarray  # float, nan when unknown
    bundles: list[str | None]
    tag_names: list[str]
    tag_scores: np.ndarray  # (n, tags), 0 where a track has no score for a tag
    top: np.ndarray  # (n, 5) tag columns, best first; -1 where a track has fewer tags
    moods: list[tuple[str, ...]]  # mood_words() of each track
    haystack: list[str]  # artist, title and file name, case-folded: what typing searches
    index: EmbeddingIndex | None  # the tracks with the most common embedding size
    mapped: np.ndarray  # catalog positions of the index's rows
    xy: np.ndarray  # (len(mapped), 2) map coordinates, fitted on every mapped track
    explained: tuple[float, float]
    axis_words: tuple[tuple[str, str], tuple[str, str]]
    rank: np.ndarray  # the map's sampling order (projection.sample_rank)
    failed: list[tuple[str, str]]  # (path, reason) of files that could not be analysed
    counts: dict[str, int]
    load_s: float = 0.0  # how long load() took (cached() decides on it while indexing runs)
    stale: bool = False  # rows changed since (kept on purpose while indexing runs)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.paths)

    def remember(self, key: str, make):  # type: ignore[no-untyped-def]
        """A value derived from this catalog, made once (e.g. a page's hover texts); it goes
        when the catalog does, i.e. when a row changes."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def position(self, path: str) -> int | None:
        if "position" not in self._memo:
            self._memo["position"] = {p: i for i, p in enumerate(self.paths)}
        return self._memo["position"].get(path)

    # What the page's header and filters offer.
    def genre_choices(self) -> list[str]:
        return sorted({g for g in self.genres if g})

    def tag_choices(self) -> list[str]:
        """Tags among some track's top five, most common first (browse.tag_choices)."""
        used = self.top[self.top >= 0]
        tally = np.bincount(used, minlength=len(self.tag_names))
        names = [self.tag_names[i] for i in np.flatnonzero(tally)]
        return sorted(names, key=lambda t: (-tally[self.tag_names.index(t)], t.casefold()))

    def hours(self) -> float:
        return float(np.nansum(self.duration)) / 3600

    def top_tags(self, i: int, n: int = 5) -> list[str]:
        return [self.tag_names[j] for j in self.top[i, :n] if j >= 0]

    def select(self, chosen: TrackFilter) -> np.ndarray:
        """Positions of the tracks ``chosen`` keeps: TrackFilter.keeps, on whole columns."""
        keep = np.ones(len(self), dtype=bool)
        if chosen.genres:
            keep &= np.isin(self.genres, list(chosen.genres))
        if chosen.tags:
            wanted = [self.tag_names.index(t) for t in chosen.tags if t in self.tag_names]
            keep &= np.isin(self.top, wanted).any(axis=1)
        if chosen.moods:
            columns = [_MOODS.index(m) for m in chosen.moods if m in _MOODS]
            keep &= self._mood_mask()[:, columns].any(axis=1)
        if chosen.text.strip():
            keep &= self._matching(chosen.text)
        duration = np.nan_to_num(self.duration, nan=0.0)
        if chosen.min_s is not None:
            keep &= duration >= chosen.min_s
        if chosen.max_s is not None:
            keep &= duration <= chosen.max_s
        return np.flatnonzero(keep)

    def _mood_mask(self) -> np.ndarray:
        """(n, moods): whether each mood word is among a track's own (made once)."""

        def make() -> np.ndarray:
            mask = np.zeros((len(self), len(_MOODS)), dtype=bool)
            for i, words in enumerate(self.moods):
                mask[i, [_MOODS.index(w) for w in words]] = True
            return mask

        return self.remember("mood_mask", make)

    def _matching(self, text: str) -> np.ndarray:
        wanted = text.strip().casefold()
        return np.fromiter((wanted in h for h in self.haystack), dtype=bool, count=len(self))

    def search(self, text: str, limit: int = SEARCH_LIMIT) -> tuple[list[int], int]:
        """Up to ``limit`` positions whose artist, title or file name contains ``text`` (in path
        order), and how many match in all. Empty text: the first ``limit`` tracks."""
        found = np.flatnonzero(self._matching(text)) if text.strip() else np.arange(len(self))
        return [int(i) for i in found[:limit]], len(found)

    def label(self, i: int) -> str:
        """How a pick list names a track: "title · genre"."""
        return f"{self.names[i]} · {display_name(self.genres[i] or '?')}"

    # The table, built once per catalog (filters then take rows of it).
    def table(self):  # type: ignore[no-untyped-def]  # -> pandas.DataFrame
        if "table" not in self._memo:
            import pandas as pd

            self._memo["table"] = pd.DataFrame(
                {
                    "Title": self.names,
                    "Artist": self.artists,
                    "Genre": [display_name(g or "") for g in self.genres],
                    "Confidence": self.confidence,
                    "Length (s)": np.round(self.duration),
                    "Mood": [", ".join(m) for m in self.moods],
                    "Sounds like": [", ".join(self.top_tags(i, 3)) for i in range(len(self))],
                    "File": self.paths,
                }
            )
        return self._memo["table"]

    def rows(self, positions: np.ndarray) -> list[Row]:
        """Light rows for export.to_m3u / to_csv (no database read, no JSON decoded)."""
        return [
            Row(
                path=self.paths[i],
                name=self.names[i],
                title=self.titles[i],
                artist=self.artists[i] or None,
                genre=self.genres[i],
                confidence=None if np.isnan(self.confidence[i]) else float(self.confidence[i]),
                duration_s=None if np.isnan(self.duration[i]) else float(self.duration[i]),
                tags=tuple(self.top_tags(int(i))),
            )
            for i in positions
        ]

    # The map.
    def map_sample(self, positions: np.ndarray, limit: int | None = None) -> np.ndarray:
        """Rows of ``xy`` to draw for the tracks at ``positions``: at most ``limit`` (default
        MAP_POINTS), always the same ones for the same tracks (lowest hash rank)."""
        rows = np.flatnonzero(np.isin(self.mapped, positions))
        return projection.sample(
            rows, self.rank[self.mapped], MAP_POINTS if limit is None else limit
        )

    def hover(self, i: int) -> dict[str, Any]:
        """What a map dot says about track ``i`` (the chart escapes and lays it out)."""
        conf = self.confidence[i]
        return {
            "name": self.names[i],
            "artist": self.artists[i],
            "genre": self.genres[i] or "?",
            "confidence": None if np.isnan(conf) else float(conf),
            "tags": self.top_tags(i, 4),
            "moods": list(self.moods[i]),
        }

    # "More like this".
    def outdated(self, bundle: str) -> list[str]:
        """Paths of tracks another model than ``bundle`` analysed."""
        return [p for p, b in zip(self.paths, self.bundles, strict=True) if b != bundle]

    def similar(
        self,
        conn: sqlite3.Connection,
        query: np.ndarray,
        *,
        k: int = 10,
        exclude: str | None = None,
    ) -> list[Match]:
        """similarity.similar() over the whole library, with the index built once."""
        if self.index is None or query.shape != self.index.shape:
            return []
        found = self.index.nearest(query, k=k, exclude=exclude)
        rows = tracks_at(conn, [self.index.paths[i] for i, _ in found])
        return [Match(t, s) for t, (_, s) in zip(rows, found, strict=True) if t is not None]


@dataclass(frozen=True)
class Row:
    """What a playlist needs of a track (duck-types :class:`~genre.library.store.Track`)."""

    path: str
    name: str
    title: str | None
    artist: str | None
    genre: str | None
    confidence: float | None
    duration_s: float | None
    tags: tuple[str, ...]

    def top_tags(self, n: int = 5) -> list[str]:
        return list(self.tags[:n])


def tracks_at(conn: sqlite3.Connection, paths: list[str]) -> list[store.Track | None]:
    """Full rows for a few paths (those a page shows), in the given order."""
    return [store.get(conn, p) for p in paths]


def _top_and_moods(scores: np.ndarray, present: np.ndarray, names: list[str]):  # type: ignore[no-untyped-def]
    ranking = np.where(present, scores, -np.inf)
    order = np.argsort(-ranking, axis=1, kind="stable")[:, :5]
    top = np.where(np.take_along_axis(present, order, axis=1), order, -1)
    column = {n: j for j, n in enumerate(names)}
    mood_scores = np.zeros((len(scores), len(_MOODS)))
    for m, mood in enumerate(_MOODS):
        cols = [column[t] for t in MOOD_TAGS[mood] if t in column]
        if cols:
            mood_scores[:, m] = scores[:, cols].max(axis=1)
    mood_order = np.argsort(-mood_scores, axis=1, kind="stable")[:, :MOODS_PER_TRACK]
    heard = np.take_along_axis(mood_scores, mood_order, axis=1) >= MOOD_FLOOR
    moods = [
        tuple(_MOODS[m] for m, h in zip(row, ok, strict=True) if h)
        for row, ok in zip(mood_order.tolist(), heard.tolist(), strict=True)
    ]
    return top, moods


def load(conn: sqlite3.Connection, db_path: Path) -> Catalog:
    """Read every row once (the state first: a write during the read makes the next call
    reload, never a stale catalog that claims to be current)."""
    state = store.data_state(conn)
    rows = conn.execute(f"SELECT {COLUMNS} FROM tracks ORDER BY path").fetchall()
    ok = [r for r in rows if r[1] == "ok"]
    failed = [(r[0], r[2] or "") for r in rows if r[1] == "failed"]
    tag_dicts = [json.loads(r[8] or "{}") for r in ok]
    names: list[str] = list(dict.fromkeys(k for d in tag_dicts[:1] for k in d))
    known = set(names)
    for d in tag_dicts:
        if len(d) != len(names) or d.keys() != known:
            names += [k for k in d if k not in known]
            known.update(d)
    key = tuple(names)
    scores = np.zeros((len(ok), len(names)))
    present = np.ones_like(scores, dtype=bool)
    for i, d in enumerate(tag_dicts):
        if tuple(d) == key:
            scores[i] = list(d.values())
        else:
            present[i] = False
            for k, v in d.items():
                j = names.index(k)
                scores[i, j], present[i, j] = v, True
    top, moods = _top_and_moods(scores, present, names)
    paths = [r[0] for r in ok]
    titles = [r[3] or os.path.splitext(os.path.basename(r[0]))[0] for r in ok]
    artists = [r[4] or "" for r in ok]
    blobs = [r[9] for r in ok]
    shape = projection.common_shape([(len(b) // 4,) for b in blobs if b is not None])
    mapped = np.array([i for i, b in enumerate(blobs) if b is not None and (len(b) // 4,) == shape])
    mapped = mapped.astype(np.int64)
    index, xy, explained, words = None, np.zeros((0, 2)), (0.0, 0.0), (("", ""), ("", ""))
    if len(mapped):
        raw = b"".join(blobs[i] for i in mapped)
        matrix = np.frombuffer(raw, dtype="<f4").reshape(len(mapped), -1)
        index = EmbeddingIndex(matrix, [paths[i] for i in mapped])
        xy, explained = projection.pca_2d(matrix)
        sub = scores[mapped]
        words = (
            projection.end_words_of(xy[:, 0], sub, names),
            projection.end_words_of(xy[:, 1], sub, names),
        )
    return Catalog(
        db_path=db_path,
        state=state,
        paths=paths,
        names=titles,
        artists=artists,
        genres=np.array([r[5] for r in ok], dtype=object),
        confidence=np.array([np.nan if r[6] is None else r[6] for r in ok], dtype=float),
        duration=np.array([np.nan if r[7] is None else r[7] for r in ok], dtype=float),
        bundles=[r[10] for r in ok],
        tag_names=names,
        tag_scores=scores,
        top=top,
        moods=moods,
        haystack=[f"{r[4] or ''} {r[3] or ''} {os.path.basename(r[0])}".casefold() for r in ok],
        titles=[r[3] for r in ok],
        index=index,
        mapped=mapped,
        xy=xy,
        explained=explained,
        axis_words=words,
        rank=projection.sample_rank(paths),
        failed=failed,
        counts=store.counts(conn),
    )


_cache: dict[str, Catalog] = {}
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def cached(conn: sqlite3.Connection, db_path: Path, *, writing: bool = False) -> Catalog:
    """The catalog of ``db_path`` at its current state: reloaded only after a row changed.

    Shared by every session of the server (one copy per library, not per visitor); one
    session loads while others wanting the same library wait for it rather than load twice.
    ``writing``: an indexing run is adding rows (each one a new state). Then a catalog that
    took over RELOAD_WHILE_WRITING_S to load is kept (``stale`` set) until the run ends, or a
    50 000-track library would reload for seconds on every click while a folder is added.
    """
    key = str(Path(db_path).resolve())
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        found = _cache.get(key)
        if found is not None:
            current = found.state == store.data_state(conn)
            found.stale = not current
            if current or (writing and found.load_s > RELOAD_WHILE_WRITING_S):
                return found
        started = time.perf_counter()
        fresh = load(conn, Path(db_path))
        fresh.load_s = time.perf_counter() - started
        with _guard:
            _cache.pop(key, None)
            _cache[key] = fresh
            while len(_cache) > CACHED_LIBRARIES:
                _cache.pop(next(iter(_cache)))
        return fresh
