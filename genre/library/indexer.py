"""Incremental indexing: decide what each file needs, analyse only that, record the outcome.

A file is skipped when its size and modification time match its row; when only the time
changed, its content hash decides (a ``touch`` does not cost an analysis). Files gone from an
indexed folder are marked missing, never deleted. The one process that calls :func:`index`
owns all writes; engines (local threads or Ray workers) only analyse.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genre.classifier import Classifier
from genre.commands.classify import expand
from genre.library import store
from genre.library.analysis import Analysis, FileStat, bundle_id, sha256_of, stat_file
from genre.library.engines import local_engine

Progress = Callable[[int, int, str], None]  # (files done, files to analyse, current file)


@dataclass
class Plan:
    new: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    skipped: list[Path] = field(default_factory=list)  # not audio by name or content

    @property
    def to_analyse(self) -> list[Path]:
        return self.new + self.changed


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    tracks: int = 0
    cancelled: bool = False
    skipped: list[Path] = field(default_factory=list)  # in folders, not audio: reported apart

    def as_dict(self) -> dict[str, Any]:
        """The ``library add --json`` contract (plus ``cancelled``)."""
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "failed": list(self.failed),
            "tracks": self.tracks,
            "cancelled": self.cancelled,
        }


def _same_content(row: store.Track, path: Path, stat: FileStat) -> bool:
    if row.size != stat.size:
        return False
    if row.mtime == stat.mtime:
        return True
    return row.sha256 is not None and sha256_of(path) == row.sha256  # touched, or changed?


def plan(
    conn: sqlite3.Connection, paths: Sequence[Path], bundle: str, *, reanalyse: bool = False
) -> Plan:
    """What each file under ``paths`` needs. ``reanalyse``: redo rows of another bundle."""
    result = Plan()
    items, result.skipped = expand([Path(p).expanduser().resolve() for p in paths])
    seen: set[str] = set()
    for path, error in items:
        if error is not None:
            result.unreadable.append((str(path), error))
            continue
        key = str(path)
        seen.add(key)
        try:
            stat = stat_file(path)
        except OSError as err:
            result.unreadable.append((key, f"Cannot read the file: {err}"))
            continue
        row = store.get(conn, key)
        if row is None:
            result.new.append(path)
        elif row.status == "failed" or not _same_content(row, path, stat):
            result.changed.append(path)  # failures are retried: the cause may be gone
        elif reanalyse and row.bundle != bundle:
            result.changed.append(path)
        else:
            if row.mtime != stat.mtime or row.status == "missing":
                store.touch(conn, key, stat.mtime)
            result.unchanged.append(path)
    roots = [Path(p).expanduser().resolve() for p in paths]
    named = {str(r) for r in roots}  # a set: the page's re-analysis passes every file by name
    folders = [r for r in roots if not r.is_file()]  # a folder, or a root that has vanished
    for path, status in store.paths_and_status(conn):
        if status == "missing" or path in seen:
            continue
        inside = path in named or any(Path(path).is_relative_to(r) for r in folders)
        if inside and not Path(path).exists():
            result.vanished.append(path)
    return result


Engine = Callable[[Sequence[Path]], Iterator[Analysis]]


def index(
    conn: sqlite3.Connection,
    paths: Sequence[Path],
    classifier: Classifier,
    *,
    engine: Engine | None = None,
    reanalyse: bool = False,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Summary:
    """Bring the library up to date with ``paths`` (files or folders, recursive)."""
    bundle = bundle_id(classifier)
    todo = plan(conn, paths, bundle, reanalyse=reanalyse)
    summary = Summary(unchanged=len(todo.unchanged), skipped=todo.skipped)
    summary.failed = [{"file": f, "error": e} for f, e in todo.unreadable]
    summary.missing = store.mark_missing(conn, todo.vanished)
    new = {str(p) for p in todo.new}
    targets = todo.to_analyse
    run = engine or local_engine(classifier)
    if progress:
        progress(0, len(targets), "")
    results = run(targets)
    try:
        for done, analysis in enumerate(results, start=1):
            store.write(conn, analysis, bundle)
            if analysis.error:
                summary.failed.append({"file": analysis.stat.path, "error": analysis.error})
            elif analysis.stat.path in new:
                summary.added += 1
            else:
                summary.updated += 1
            if progress:
                progress(done, len(targets), analysis.stat.path)
            if should_stop() and done < len(targets):
                summary.cancelled = True
                break
    finally:
        close = getattr(results, "close", None)
        if close:
            close()  # stops the engine's pending work
    summary.tracks = store.counts(conn)["ok"]
    return summary
