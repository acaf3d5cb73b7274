"""One trainer per run folder: an exclusive ``flock`` on ``run.lock`` inside the folder.

The lock is held for the trainer's whole life. The kernel releases it when the process ends in
any way (``kill -9`` included), so a lock left by a dead trainer never blocks the next one; the
file itself stays behind and only records the pid of its last holder, for the message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from runs.errors import RunError

LOCK_FILE = "run.lock"


class RunFolderBusy(RunError):
    """Another live process trains in this run folder."""


@contextlib.contextmanager
def run_folder_lock(folder: Path, hint: str = "") -> Iterator[Path]:
    """Hold the lock of an existing run folder, or raise :class:`RunFolderBusy` at once.

    ``hint`` ends the message (what the user can do instead, e.g. "choose another --run").
    """
    path = folder / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as err:
        raise RunError(f"The run folder {folder} cannot be used ({err.strerror}).") from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _recorded_pid(fd)
            who = f"process {holder}" if holder else "another process"
            raise RunFolderBusy(
                f"The run folder {folder} is in use by {who}, which is training in it now. "
                + (hint or "Wait for it to finish or stop it first.")
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock


def _recorded_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
