"""Indexing in a background thread, so a page can show progress and offer a cancel button.

The thread opens its own connection (SQLite connections are not shared between threads here)
and is the only writer while it runs; readers keep working thanks to WAL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from genre.classifier import Classifier
from genre.library.indexer import Summary, index
from genre.library.schema import connect
from genre.logs import get_logger


@dataclass(frozen=True)
class JobState:
    running: bool
    done: int
    total: int
    current: str
    eta_s: float | None  # None until the first file is done
    summary: Summary | None
    error: str | None
    cancelling: bool

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


class IndexJob:
    """One indexing run of ``paths`` into the library at ``db_path``.

    ``reanalyse``: also redo the tracks under ``paths`` that another model analysed (the page
    passes the outdated tracks' own files, so nothing else is looked at).
    """

    def __init__(
        self,
        db_path: Path,
        paths: Sequence[Path],
        classifier: Classifier,
        *,
        reanalyse: bool = False,
    ) -> None:
        self.db_path = Path(db_path)
        self.reanalyse = reanalyse
        self.paths = [Path(p) for p in paths]
        self.classifier = classifier
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = self._total = 0
        self._current = ""
        self._started: float | None = None  # when analysis began (planning excluded)
        self._summary: Summary | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name="library-index", daemon=True)

    def start(self) -> IndexJob:
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop after the file being analysed; what was indexed so far is kept."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def state(self) -> JobState:
        with self._lock:
            eta = None
            if self._started is not None and self._done:
                elapsed = time.monotonic() - self._started
                eta = elapsed / self._done * (self._total - self._done)
            return JobState(
                running=self._thread.is_alive() and self._summary is None and not self._error,
                done=self._done,
                total=self._total,
                current=self._current,
                eta_s=eta,
                summary=self._summary,
                error=self._error,
                cancelling=self._stop.is_set(),
            )

    def _progress(self, done: int, total: int, current: str) -> None:
        with self._lock:
            if self._started is None:
                self._started = time.monotonic()
            self._done, self._total, self._current = done, total, current

    def _run(self) -> None:
        try:
            conn = connect(self.db_path)
            try:
                summary = index(
                    conn,
                    self.paths,
                    self.classifier,
                    reanalyse=self.reanalyse,
                    progress=self._progress,
                    should_stop=self._stop.is_set,
                )
            finally:
                conn.close()
            with self._lock:
                self._summary = summary
        except Exception as err:  # a bug or a broken database: said plainly, traceback logged
            get_logger("genre.library").exception("indexing %s failed", self.paths)
            with self._lock:
                self._error = f"Indexing stopped: {err}"


def eta_text(seconds: float | None) -> str:
    """'about 2 min 10 s left', or '' while unknown."""
    if seconds is None:
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"about {seconds} s left"
    return f"about {seconds // 60} min {seconds % 60:02d} s left"
