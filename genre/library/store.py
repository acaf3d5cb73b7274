"""Reading and writing library rows. Every write goes through this module."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from genre.library.analysis import Analysis

TAGS_SHOWN = 5  # tags a listing shows per track (all 50 scores are stored)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Track:
    """One library row, decoded."""

    path: str
    status: str
    size: int
    mtime: float
    sha256: str | None
    error: str | None
    duration_s: float | None
    title: str | None
    artist: str | None
    genre: str | None
    confidence: float | None
    probabilities: dict[str, float]
    tags: dict[str, float]
    embedding: np.ndarray | None
    bundle: str | None
    indexed_at: str
    is_music: bool | None = None
    music_score: float | None = None
    file_tags: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """What a person calls the track: its title tag, else the file name."""
        return self.title or Path(self.path).stem

    def top_tags(self, n: int = TAGS_SHOWN) -> dict[str, float]:
        ranked = sorted(self.tags.items(), key=lambda kv: -kv[1])[:n]
        return {k: round(v, 4) for k, v in ranked}

    def listing(self) -> dict[str, Any]:
        """The ``library list --json`` contract."""
        return {
            "file": self.path,
            "genre": self.genre,
            "confidence": None if self.confidence is None else round(self.confidence, 6),
            "tags": self.top_tags(),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
        }


def _track(row: sqlite3.Row) -> Track:
    blob = row["embedding"]
    return Track(
        path=row["path"],
        status=row["status"],
        size=row["size"],
        mtime=row["mtime"],
        sha256=row["sha256"],
        error=row["error"],
        duration_s=row["duration_s"],
        title=row["title"],
        artist=row["artist"],
        genre=row["genre"],
        confidence=row["confidence"],
        probabilities=json.loads(row["probabilities"] or "{}"),
        tags=json.loads(row["tags"] or "{}"),
        embedding=None if blob is None else np.frombuffer(blob, dtype=np.float32).copy(),
        bundle=row["bundle"],
        indexed_at=row["indexed_at"],
        is_music=None if row["is_music"] is None else bool(row["is_music"]),
        music_score=row["music_score"],
        file_tags=json.loads(row["file_tags"] or "{}"),
    )


def get(conn: sqlite3.Connection, path: str) -> Track | None:
    row = conn.execute("SELECT * FROM tracks WHERE path = ?", (path,)).fetchone()
    return None if row is None else _track(row)


def tracks(
    conn: sqlite3.Connection,
    *,
    status: str | None = "ok",
    genre: str | None = None,
    tag: str | None = None,
    under: Iterable[str] = (),
) -> list[Track]:
    """Rows, ordered by path; ``tag`` keeps tracks with that tag among their top five."""
    sql, params = "SELECT * FROM tracks WHERE 1=1", []
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    if genre:
        sql += " AND lower(genre) = lower(?)"
        params.append(genre)
    rows = [_track(r) for r in conn.execute(sql + " ORDER BY path", params)]
    if tag:
        wanted = tag.casefold()
        rows = [t for t in rows if wanted in {k.casefold() for k in t.top_tags()}]
    prefixes = [str(p) for p in under]
    if prefixes:
        rows = [t for t in rows if any(t.path.startswith(p) for p in prefixes)]
    return rows


def data_state(conn: sqlite3.Connection) -> tuple[int, int]:
    """A cheap fingerprint of the rows: it changes whenever any row is added, changed or removed.

    ``(version, max id)``: the version is a counter that triggers bump on every write to
    ``tracks`` (schema migration 3), the same for every connection. ``PRAGMA data_version`` would
    not do: it is per connection and says nothing about the connection's own writes; nor would
    max(indexed_at) + count: marking a file missing or touched changes neither. ``max(id)`` tells
    a recreated database from the old one at the same version. Two indexed lookups, microseconds.
    """
    version = conn.execute("SELECT version FROM library_state WHERE id = 1").fetchone()
    top = conn.execute("SELECT max(id) FROM tracks").fetchone()
    return (int(version[0]) if version else 0, int(top[0] or 0))


def outdated(conn: sqlite3.Connection, bundle: str) -> list[str]:
    """Paths of the analysed tracks that another model than ``bundle`` produced."""
    rows = conn.execute(
        "SELECT path FROM tracks WHERE status = 'ok' AND bundle IS NOT ? ORDER BY path", (bundle,)
    )
    return [r[0] for r in rows]


def paths_and_status(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every row's path and status, nothing decoded (what the indexer needs to find vanished
    files without loading 50 000 analyses)."""
    return [(r[0], r[1]) for r in conn.execute("SELECT path, status FROM tracks ORDER BY path")]


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    found = dict(conn.execute("SELECT status, count(*) FROM tracks GROUP BY status").fetchall())
    return {s: int(found.get(s, 0)) for s in ("ok", "failed", "missing")}


def write(conn: sqlite3.Connection, analysis: Analysis, bundle: str) -> None:
    """Insert or replace the row for ``analysis``'s file, in its own transaction."""
    tags = analysis.file_tags
    embedding = None if analysis.embedding is None else analysis.embedding.astype("<f4").tobytes()
    values = {
        "path": analysis.stat.path,
        "size": analysis.stat.size,
        "mtime": analysis.stat.mtime,
        "sha256": analysis.sha256,
        "status": "failed" if analysis.error else "ok",
        "error": analysis.error,
        "duration_s": analysis.duration_s,
        "title": tags.get("title"),
        "artist": tags.get("artist"),
        "genre": analysis.genre,
        "confidence": analysis.confidence,
        "probabilities": json.dumps(analysis.probabilities),
        "tags": json.dumps(analysis.tags),
        "embedding": embedding,
        "bundle": bundle,
        "indexed_at": now_iso(),
        "is_music": None if analysis.is_music is None else int(analysis.is_music),
        "music_score": analysis.music_score,
        "file_tags": json.dumps(tags),
    }
    columns = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    updates = ", ".join(f"{k} = excluded.{k}" for k in values if k != "path")
    with conn:
        conn.execute(
            f"INSERT INTO tracks ({columns}) VALUES ({marks}) "
            f"ON CONFLICT(path) DO UPDATE SET {updates}",
            values,
        )


def touch(conn: sqlite3.Connection, path: str, mtime: float) -> None:
    """Same content as analysed (touched, or back after going missing): keep the analysis."""
    with conn:
        conn.execute(
            "UPDATE tracks SET mtime = ?, status = 'ok', error = NULL "
            "WHERE path = ? AND genre IS NOT NULL",
            (mtime, path),
        )


def mark_missing(conn: sqlite3.Connection, paths: Iterable[str]) -> int:
    """Flag vanished files; their rows (and analyses) stay, so a returning file is known."""
    paths = list(paths)
    with conn:
        conn.executemany(
            "UPDATE tracks SET status = 'missing', error = 'The file is no longer there.' "
            "WHERE path = ? AND status != 'missing'",
            [(p,) for p in paths],
        )
    return len(paths)
