"""Write-ahead logging for the app's SQLite files (the run registry, the library).

WAL lets readers go on while one process writes. Switching a file to it needs a moment alone
with the file, and SQLite answers "database is locked" at once, without waiting on the busy
timeout, when another process holds it then: two `gan train` started together on a new
registry failed so (2026-11-26, reproduced: 5 of 32 openings of a new file by 4 processes at
once). So the switch is tried again until ``wait_s`` has passed.
"""

from __future__ import annotations

import sqlite3
import time

RETRY_S = 0.05


def use_wal(db: sqlite3.Connection, wait_s: float) -> None:
    """Put ``db``'s file in WAL mode (a no-op once it is: the mode is stored in the file)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(RETRY_S)
