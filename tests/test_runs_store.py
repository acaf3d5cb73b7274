"""The run registry's file format: schema versions, migrating an old registry, no back-edges."""

from __future__ import annotations

import ast
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from runs.schema import LATEST
from runs.store import RunRegistry

REPO = Path(__file__).resolve().parents[1]

# The registry exactly as it was before schema versions (user_version 0): the SCHEMA string
# of the first registries, split NOT NULL and pid_started included.
OLD_SCHEMA = """
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


def old_registry(root: Path) -> Path:
    """A finished classifier run (with an epoch row) and a finished GAN run with split "—"."""
    root.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(root / "runs.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(OLD_SCHEMA)
    insert = (
        "INSERT INTO runs (id, created, started, ended, updated, status, model, split, dataset, "
        "config, fold, folds, epoch, epochs, metrics) "
        "VALUES (?, 1.0, 2.0, 3.0, 3.0, 'finished', ?, ?, ?, ?, 1, 1, 2, 2, ?)"
    )
    db.execute(insert, ("20250101-000000-aaaaaa", "logreg", "holdout", "feats.csv",
                        json.dumps({"epochs": 2}), json.dumps({"test_accuracy": 0.5})))  # fmt: skip
    db.execute(insert, ("20250101-000001-bbbbbb", "gan", "—", "shared GTZAN clips",
                        json.dumps({"steps": 6}), json.dumps({"kind": "gan"})))  # fmt: skip
    db.execute(
        "INSERT INTO epochs VALUES ('20250101-000000-aaaaaa', 1, 2, 4.0, 0.9, 0.6, 1.1, 0.5)"
    )
    db.commit()
    db.close()
    return root / "runs.sqlite"


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_an_old_registry_is_migrated_once_and_keeps_its_runs(tmp_path: Path) -> None:
    path = old_registry(tmp_path / "home")
    assert user_version(path) == 0
    registry = RunRegistry(tmp_path / "home")
    assert registry.migrated == [1, 2] and user_version(path) == LATEST == 2
    classifier, gan = registry.get("20250101-000000-aaaaaa"), registry.get("20250101-000001-bbbbbb")
    assert classifier.split == "holdout" and classifier.status == "finished"
    assert classifier.metrics == {"test_accuracy": 0.5} and classifier.config == {"epochs": 2}
    assert gan.split is None and gan.model == "gan" and gan.metrics == {"kind": "gan"}
    epochs = registry.epochs(classifier.id)
    assert [(e["fold"], e["epoch"], e["val_acc"]) for e in epochs] == [(1, 2, 0.5)]
    # the rebuilt table still cascades deletes to the epochs rows, and takes NULL splits
    new = registry.create(model="gan", split=None, dataset="x", config={})
    assert registry.get(new.id).split is None
    registry.delete(classifier.id)
    assert registry.epochs(classifier.id) == []
    again = RunRegistry(tmp_path / "home")  # opening twice: nothing to do
    assert again.migrated == [] and user_version(path) == LATEST
    assert {r.id for r in again.list()} == {gan.id, new.id}


def test_a_new_registry_starts_at_the_latest_version(tmp_path: Path) -> None:
    registry = RunRegistry(tmp_path / "fresh")
    assert registry.migrated == [LATEST] and user_version(registry.db_path) == LATEST
    assert RunRegistry(tmp_path / "fresh").migrated == []


OPEN_ON_GO = """
import json, sys, time
from pathlib import Path
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
from runs.store import RunRegistry
print(json.dumps(RunRegistry(Path(sys.argv[1])).migrated))
"""


def test_two_processes_opening_an_old_registry_migrate_it_once(tmp_path: Path) -> None:
    path = old_registry(tmp_path / "home")
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_ON_GO, str(tmp_path / "home"), str(go)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(1.0)  # both are waiting for the go file (and have imported what they need)
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(results) == [[], [1, 2]]  # one migrated, the other found it done
    assert user_version(path) == LATEST
    registry = RunRegistry(tmp_path / "home")
    assert registry.get("20250101-000001-bbbbbb").split is None
    assert len(registry.list()) == 2 and len(registry.epochs("20250101-000000-aaaaaa")) == 1


def test_runs_imports_none_of_the_apps_packages() -> None:
    """runs/ sits below genre and gan: no back-edges."""
    forbidden = {"genre", "gan", "audio", "mood", "streamlit", "ui", "app_pages"}
    for source in (REPO / "runs").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{source.name} imports {name}"


def test_an_unknown_run_id_is_one_line_and_exit_2_in_both_clis(tmp_path: Path) -> None:
    """RunError is not a GenreError: both CLIs' guards still report it as bad input."""
    env = {**os.environ, "GENRE_STUDIO_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    for cmd in (["genre", "runs", "--show", "nope"], ["gan", "train", "--run-id", "nope"]):
        done = subprocess.run(
            [sys.executable, "-m", *cmd], cwd=REPO, env=env, capture_output=True, text=True
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == "error: There is no run nope."
