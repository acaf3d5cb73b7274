"""The run registry: every run, its live progress and its results, in SQLite.

One database (``runs.sqlite`` in the data folder, WAL mode so a training process can write
while pages read; schema and migrations in :mod:`runs.schema`) plus one folder per run holding
its config, checkpoint, metrics and log. Every change is one transaction, and status changes
only move forward (queued → running → finished | failed | cancelled), so a crash can never
leave a run half finished: a run whose process has died is ended by
:meth:`RunRegistry.reconcile`.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runs.errors import RunError
from runs.files import LOG_FILE, log_tail, write_json
from runs.home import default_root
from runs.proc import CANCEL_MARKER, process_alive, process_start_time
from runs.schema import migrate
from runs.wal import use_wal

ACTIVE = ("queued", "running")
# ended before finishing: the run may have left a checkpoint to go on from
STOPPED = ("failed", "cancelled")
FINAL = ("finished", *STOPPED)
STATUSES = ACTIVE + FINAL
QUEUED_GRACE_S = 120.0  # a queued run without a live process after this long has failed


@dataclass
class Run:
    id: str
    created: float
    started: float | None
    ended: float | None
    updated: float
    status: str
    model: str
    split: str | None  # None: the run has no train/test split (GAN runs)
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


class RunRegistry:
    """All runs under one data folder. Cheap to create: connections are opened per call."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else default_root()
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "runs.sqlite"
        self.runs_dir = self.root / "runs"
        self.runs_dir.mkdir(exist_ok=True)
        db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            use_wal(db, wait_s=30.0)  # persistent: readers never block the writer
            self.migrated = migrate(db)  # the schema versions this opening applied
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
        split: str | None,
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
            tail = log_tail(run.folder / LOG_FILE)
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
