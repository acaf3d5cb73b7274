"""The run registry: every training run, its live progress and its results, in SQLite.

One database (``runs.sqlite`` in the data folder, WAL mode so a training process can write
while pages read) plus one folder per run holding its config, checkpoint, metrics, confusion
matrix and log. Every change is one transaction, and status changes only move forward
(queued → running → finished | failed | cancelled), so a crash can never leave a run half
finished: a run whose process has died is marked failed by :meth:`RunRegistry.reconcile`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genre.errors import GenreError
from genre.paths import data_dir

ACTIVE = ("queued", "running")
FINAL = ("finished", "failed", "cancelled")
STATUSES = ACTIVE + FINAL
QUEUED_GRACE_S = 120.0  # a queued run without a live process after this long has failed
CANCEL_MARKER = "cancel-requested"  # file in a run folder: the user asked it to stop

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    updated REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued','running','finished','failed','cancelled')),
    model TEXT NOT NULL,
    split TEXT NOT NULL,
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
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    fold INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    time REAL NOT NULL,
    train_loss REAL,
    train_acc REAL,
    val_loss REAL,
    val_acc REAL,
    PRIMARY KEY (run_id, fold, epoch)
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status);
"""


class RunError(GenreError):
    """A run does not exist or cannot change state as asked."""


@dataclass
class Run:
    id: str
    created: float
    started: float | None
    ended: float | None
    updated: float
    status: str
    model: str
    split: str
    dataset: str
    config: dict[str, Any]
    pid: int | None
    phase: str
    fold: int
    folds: int
    epoch: int
    epochs: int
    step: int
    steps: int
    eta_s: float | None
    error: str | None
    metrics: dict[str, Any] = field(default_factory=dict)
    # the process's start time (clock ticks after boot, /proc/<pid>/stat): with the pid, it
    # identifies the process even after the pid is recycled
    pid_started: int | None = None
    folder: Path = Path()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def process_alive(self) -> bool:
        """Is this run's training process still the live process behind ``pid``?"""
        return process_alive(self.pid, started=self.pid_started, marker=self.id)

    @property
    def progress(self) -> float:
        """Fraction done over all folds and epochs, 0..1."""
        if self.status == "finished":
            return 1.0
        total = max(1, self.folds) * max(1, self.epochs)
        within = self.step / self.steps if self.steps else 0.0
        done = (max(1, self.fold) - 1) * max(1, self.epochs) + max(0, self.epoch - 1) + within
        return max(0.0, min(1.0, done / total))


def new_run_id() -> str:
    """Sortable by creation time, unique across processes."""
    return time.strftime("%Y%m%d-%H%M%S", time.localtime()) + "-" + secrets.token_hex(3)


def process_start_time(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks after boot (Linux); None if unknown or gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # fields after the command name (which may hold spaces and parentheses): state is
        # field 3 of proc(5), starttime field 22
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def process_alive(
    pid: int | None, *, started: int | None = None, marker: str | None = None
) -> bool:
    """Is ``pid`` a live (not zombie) process, and the same process that was recorded?

    A recycled PID must not pass for the run's process. ``started`` (from
    :func:`process_start_time` when the pid was recorded) identifies the process whatever its
    command line; ``marker`` (the run id, which the page's launcher puts on the command line)
    is the fallback for rows recorded without a start time.
    """
    if not pid or pid <= 0:
        return False
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            stat = (proc / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] in ("Z", "X"):
                return False
            if started is not None:
                return int(fields[19]) == started
            if marker is not None:
                cmdline = (
                    (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
                return marker in cmdline
            return True
        except (OSError, IndexError, ValueError):
            return False
    if Path("/proc/self").is_dir():
        return False  # Linux: no /proc entry means no process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a registry made by an older version up to the current schema (idempotent).

    Checked without a write lock, so opening the registry never waits for a busy writer.
    """
    if "pid_started" in _columns(db):
        return
    db.execute("BEGIN IMMEDIATE")  # one process migrates; the others then see the new column
    try:
        if "pid_started" not in _columns(db):
            db.execute("ALTER TABLE runs ADD COLUMN pid_started INTEGER")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _columns(db: sqlite3.Connection) -> set[str]:
    return {row[1] for row in db.execute("PRAGMA table_info(runs)")}


class RunRegistry:
    """All runs under one data folder. Cheap to create: connections are opened per call."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else data_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "runs.sqlite"
        self.runs_dir = self.root / "runs"
        self.runs_dir.mkdir(exist_ok=True)
        db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # persistent: readers never block the writer
            db.executescript(SCHEMA)
            _migrate(db)
        finally:
            db.close()

    @contextmanager
    def _connect(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction: committed on success, rolled back on any error."""
        db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def folder(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    # -- creating and moving runs through their states ---------------------------------------
    def create(
        self,
        *,
        model: str,
        split: str,
        dataset: str,
        config: dict[str, Any],
        run_id: str | None = None,
    ) -> Run:
        run_id = run_id or new_run_id()
        folder = self.folder(run_id)
        folder.mkdir(parents=True, exist_ok=False)
        write_json(folder / "config.json", config)
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id, created, updated, status, model, split, dataset, config, "
                "epochs, folds) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
                (
                    run_id, now, now, model, split, dataset, json.dumps(config),
                    int(config.get("epochs", 0) or 0), int(config.get("folds", 1) or 1),
                ),
            )  # fmt: skip
        return self.get(run_id)

    def set_pid(self, run_id: str, pid: int) -> None:
        """Record the run's process (by the launcher, right after starting it)."""
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET pid = ?, pid_started = ?, updated = ? "
                "WHERE id = ? AND status IN ('queued','running')",
                (pid, process_start_time(pid), time.time(), run_id),
            )

    def start(self, run_id: str, pid: int) -> None:
        """The training process has begun: queued → running."""
        now = time.time()
        with self._connect() as db:
            changed = db.execute(
                "UPDATE runs SET status = 'running', pid = ?, pid_started = ?, started = ?, "
                "updated = ? WHERE id = ? AND status = 'queued'",
                (pid, process_start_time(pid), now, now, run_id),
            ).rowcount
        if not changed:
            raise RunError(f"Run {run_id} cannot start: it is {self.get(run_id).status}.")

    def progress(
        self,
        run_id: str,
        *,
        phase: str | None = None,
        fold: int | None = None,
        folds: int | None = None,
        epoch: int | None = None,
        epochs: int | None = None,
        step: int | None = None,
        steps: int | None = None,
        eta_s: float | None = None,
    ) -> None:
        """Live position of a running run (throttle calls to about one per second)."""
        values = {
            "phase": phase, "fold": fold, "folds": folds, "epoch": epoch, "epochs": epochs,
            "step": step, "steps": steps,
        }  # fmt: skip
        sets = [f"{k} = ?" for k, v in values.items() if v is not None]
        args: list[Any] = [v for v in values.values() if v is not None]
        sets += ["eta_s = ?", "updated = ?"]
        args += [eta_s, time.time(), run_id]
        with self._connect() as db:
            db.execute(
                f"UPDATE runs SET {', '.join(sets)} WHERE id = ? AND status = 'running'", args
            )

    def add_epoch(
        self,
        run_id: str,
        *,
        fold: int,
        epoch: int,
        train_loss: float | None,
        train_acc: float | None,
        val_loss: float | None,
        val_acc: float | None,
    ) -> None:
        with self._connect() as db:
            changed = db.execute(
                "UPDATE runs SET fold = ?, epoch = ?, updated = ? "
                "WHERE id = ? AND status = 'running'",
                (fold, epoch, time.time(), run_id),
            ).rowcount
            if changed:  # a run that has ended gets no more rows
                db.execute(
                    "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, fold, epoch, time.time(), train_loss, train_acc, val_loss, val_acc),
                )

    def finish(self, run_id: str, metrics: dict[str, Any]) -> None:
        """running → finished, with the final metrics (written to the run folder first)."""
        write_json(self.folder(run_id) / "metrics.json", metrics)
        self._end(run_id, "finished", metrics=metrics)

    def fail(self, run_id: str, error: str) -> bool:
        return self._end(run_id, "failed", error=error)

    def mark_cancelled(self, run_id: str, note: str = "Cancelled by the user.") -> bool:
        return self._end(run_id, "cancelled", error=note)

    def _end(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> bool:
        """Move an active run to a final state; a final run never changes again."""
        now = time.time()
        with self._connect() as db:
            changed = db.execute(
                "UPDATE runs SET status = ?, ended = ?, updated = ?, error = ?, metrics = ?, "
                "eta_s = NULL WHERE id = ? AND status IN ('queued','running')",
                (status, now, now, error, json.dumps(metrics) if metrics else None, run_id),
            ).rowcount
        return bool(changed)

    # -- reading -----------------------------------------------------------------------------
    def get(self, run_id: str) -> Run:
        with self._connect(write=False) as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunError(f"There is no run {run_id}.")
        return self._run(row)

    def list(self, *, status: str | None = None, limit: int = 500) -> list[Run]:
        query, args = "SELECT * FROM runs", []
        if status:
            query += " WHERE status = ?"
            args.append(status)
        query += " ORDER BY created DESC LIMIT ?"
        args.append(limit)
        with self._connect(write=False) as db:
            rows = db.execute(query, args).fetchall()
        return [self._run(r) for r in rows]

    def epochs(self, run_id: str) -> list[dict[str, Any]]:
        with self._connect(write=False) as db:
            rows = db.execute(
                "SELECT fold, epoch, time, train_loss, train_acc, val_loss, val_acc FROM epochs "
                "WHERE run_id = ? ORDER BY fold, epoch",
                (run_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def _run(self, row: sqlite3.Row) -> Run:
        data = dict(row)
        data["config"] = json.loads(data["config"])
        data["metrics"] = json.loads(data["metrics"]) if data["metrics"] else {}
        return Run(**data, folder=self.folder(data["id"]))

    # -- housekeeping ------------------------------------------------------------------------
    def reconcile(self) -> list[str]:
        """End every active run whose process is gone; returns their ids.

        Such a run failed, unless a cancel was requested (the signal may have arrived before
        the trainer could handle it), in which case it is cancelled.
        """
        failed = []
        now = time.time()
        for run in self.list(status=None, limit=10_000):
            if not run.active:
                continue
            if run.process_alive:
                continue
            if run.status == "queued" and run.pid is None and now - run.created < QUEUED_GRACE_S:
                continue  # the launcher has not recorded the process yet
            if (run.folder / CANCEL_MARKER).exists():
                if self.mark_cancelled(run.id):
                    failed.append(run.id)
                continue
            tail = log_tail(run.folder / "log.txt")
            message = "The training process ended unexpectedly (killed or crashed)."
            if tail:
                message += " Last log lines:\n" + tail
            if self.fail(run.id, message):
                failed.append(run.id)
        return failed

    def delete(self, run_id: str) -> None:
        run = self.get(run_id)
        if run.active and run.process_alive:
            raise RunError(f"Run {run_id} is still running; cancel it first.")
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.folder(run_id), ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    """Atomic: a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n", encoding="utf-8")
    tmp.replace(path)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def log_tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
