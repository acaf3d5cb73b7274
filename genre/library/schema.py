"""The library's SQLite file: where it lives, how it is opened, and its schema migrations.

Each migration is a list of statements applied in one transaction; ``PRAGMA user_version``
records how many have run, so an older database is brought forward step by step on open.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from genre.paths import data_dir
from runs.wal import use_wal

DB_NAME = "library.sqlite3"
BUSY_TIMEOUT_S = 30.0  # a reader waits this long for the writer's checkpoint, never fails at once

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: one row per audio file with what the model said about it.
    (
        """CREATE TABLE tracks (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime REAL NOT NULL,
            sha256 TEXT,
            status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'missing')),
            error TEXT,
            duration_s REAL,
            title TEXT,
            artist TEXT,
            genre TEXT,
            confidence REAL,
            probabilities TEXT,
            tags TEXT,
            embedding BLOB,
            bundle TEXT,
            indexed_at TEXT NOT NULL
        )""",
        "CREATE INDEX tracks_genre ON tracks (genre)",
        "CREATE INDEX tracks_status ON tracks (status)",
    ),
    # 2: the music/not-music verdict, and the file's other tags (album, language, genre).
    (
        "ALTER TABLE tracks ADD COLUMN is_music INTEGER",
        "ALTER TABLE tracks ADD COLUMN music_score REAL",
        "ALTER TABLE tracks ADD COLUMN file_tags TEXT",
    ),
    # 3: a counter that any change to ``tracks`` bumps, so a reader can tell in one cheap query
    # whether its cached copy of the rows is stale (store.data_state). Triggers, not the store's
    # own writes, bump it: no writer (an older build, a hand-run UPDATE) can forget to.
    (
        "CREATE TABLE library_state (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "version INTEGER NOT NULL)",
        "INSERT INTO library_state (id, version) VALUES (1, 0)",
        *(
            f"CREATE TRIGGER tracks_{event.lower()}_bumps AFTER {event} ON tracks "
            "BEGIN UPDATE library_state SET version = version + 1 WHERE id = 1; END"
            for event in ("INSERT", "UPDATE", "DELETE")
        ),
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def default_db_path() -> Path:
    return data_dir() / DB_NAME


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations after the database's version, up to ``target``; returns the version."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"This library database is from a newer Genre Studio (schema {current}, this "
            f"version knows up to {SCHEMA_VERSION}); update the app to open it."
        )
    for version in range(current + 1, target + 1):
        # One transaction per step, so a failed step leaves the previous version intact; taken
        # with the write lock and the version read again under it, so of several processes
        # opening an older file at once exactly one applies each step.
        conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(conn) < version:
                for statement in MIGRATIONS[version - 1]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return schema_version(conn)


def connect(path: Path | None = None, *, target: int = SCHEMA_VERSION) -> sqlite3.Connection:
    """Open (creating and migrating) the library; WAL lets readers run while indexing writes."""
    path = Path(path) if path is not None else default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    use_wal(conn, wait_s=BUSY_TIMEOUT_S)
    conn.execute("PRAGMA synchronous=NORMAL")
    migrate(conn, target)
    return conn
