"""The registry's SQLite schema, versioned with ``PRAGMA user_version``, and its migrations.

Version 1 is the schema of the first registries (which carried no version: 0 on disk), with the
``pid_started`` column that was added to them later. Version 2 lets a run have no split (GAN
runs; they stored "—" before). A new file is created at the latest version directly; an older
one is migrated in order, in one transaction, by whichever process opens it first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from runs.errors import RunError

RUNS_COLUMNS = """
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    updated REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued','running','finished','failed','cancelled')),
    model TEXT NOT NULL,
    split TEXT{split_null},
    dataset TEXT NOT NULL,
    config TEXT NOT NULL,
    pid INTEGER,
    pid_started INTEGER,
    phase TEXT NOT NULL DEFAULT '',
    fold INTEGER NOT NULL DEFAULT 0,
    folds INTEGER NOT NULL DEFAULT 1,
    epoch INTEGER NOT NULL DEFAULT 0,
    epochs INTEGER NOT NULL DEFAULT 0,
    step INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,
    eta_s REAL,
    error TEXT,
    metrics TEXT
"""
EPOCHS_TABLE = """CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    fold INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    time REAL NOT NULL,
    train_loss REAL,
    train_acc REAL,
    val_loss REAL,
    val_acc REAL,
    PRIMARY KEY (run_id, fold, epoch)
)"""
STATUS_INDEX = "CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status)"
LEGACY_NO_SPLIT = "—"  # what GAN runs stored as their split before version 2
LEGACY_GAN_MODEL = "gan"


def _runs_table(name: str, *, split_nullable: bool) -> str:
    columns = RUNS_COLUMNS.format(split_null="" if split_nullable else " NOT NULL")
    return f"CREATE TABLE IF NOT EXISTS {name} ({columns})"


def _create_latest(db: sqlite3.Connection) -> None:
    db.execute(_runs_table("runs", split_nullable=True))
    db.execute(EPOCHS_TABLE)
    db.execute(STATUS_INDEX)


def _to_v1(db: sqlite3.Connection) -> None:
    """An unversioned registry: add what was added to it over time (``pid_started``)."""
    db.execute(EPOCHS_TABLE)
    db.execute(STATUS_INDEX)
    if "pid_started" not in _columns(db):
        db.execute("ALTER TABLE runs ADD COLUMN pid_started INTEGER")


def _to_v2(db: sqlite3.Connection) -> None:
    """``split`` may be NULL; GAN runs' placeholder split becomes NULL.

    SQLite cannot drop NOT NULL in place: the table is rebuilt (foreign keys are off on this
    connection, so dropping the old table leaves the epochs rows alone).
    """
    db.execute("DROP TABLE IF EXISTS runs_v2")
    db.execute(_runs_table("runs_v2", split_nullable=True))
    names = ", ".join(_columns_in_order(db))
    db.execute(f"INSERT INTO runs_v2 ({names}) SELECT {names} FROM runs")
    db.execute(
        "UPDATE runs_v2 SET split = NULL WHERE model = ? AND split = ?",
        (LEGACY_GAN_MODEL, LEGACY_NO_SPLIT),
    )
    db.execute("DROP TABLE runs")
    db.execute("ALTER TABLE runs_v2 RENAME TO runs")
    db.execute(STATUS_INDEX)


# (version reached, step from the version before); append only, never edit a shipped step
MIGRATIONS: tuple[tuple[int, Callable[[sqlite3.Connection], None]], ...] = (
    (1, _to_v1),
    (2, _to_v2),
)
LATEST = MIGRATIONS[-1][0]


def _columns(db: sqlite3.Connection) -> set[str]:
    return set(_columns_in_order(db))


def _columns_in_order(db: sqlite3.Connection) -> list[str]:
    return [row[1] for row in db.execute("PRAGMA table_info(runs)")]


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection) -> list[int]:
    """Bring the registry on ``db`` (autocommit mode) to :data:`LATEST`; returns the versions
    this call applied (empty when it already was current, or another process got there first).

    The version is read first without a write lock, so opening a current registry never waits
    for a busy writer; a migration then re-reads it under ``BEGIN IMMEDIATE``, so when several
    processes open an old file at once exactly one migrates it.
    """
    if _version(db) == LATEST:
        return []
    db.execute("BEGIN IMMEDIATE")
    try:
        current, applied = _version(db), []
        if current > LATEST:
            raise RunError(
                f"The run registry is version {current}, newer than this program ({LATEST})."
            )
        if current == 0 and not _columns(db):  # a new file: straight to the latest schema
            _create_latest(db)
            applied.append(LATEST)
        else:
            for version, step in MIGRATIONS:
                if version > current:
                    step(db)
                    applied.append(version)
        db.execute(f"PRAGMA user_version = {LATEST}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return applied
