"""A run's process as the operating system sees it: recognised by pid + start time, signalled.

No registry here: :mod:`runs.store` asks this module whether a run's process is alive, and
:mod:`runs.launch` (which uses both) starts, cancels and reaps them.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

CANCEL_MARKER = "cancel-requested"  # file in a run folder: the user asked it to stop


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
    command line; ``marker`` (the run id, which the launcher puts on the command line) is the
    fallback for rows recorded without a start time.
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


def terminate(pid: int) -> None:
    """SIGTERM to the run's process group when it leads its own session (started by
    :func:`start_process`), else to the process alone: a run started from a terminal shares
    its group with the shell's other jobs, which must not be signalled."""
    try:
        if os.getsid(pid) == pid:
            os.killpg(pid, signal.SIGTERM)
            return
    except (ProcessLookupError, PermissionError):
        pass
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile: reconcile records how
        os.kill(pid, signal.SIGTERM)
