"""A run's process: started in its own session, recognised by pid + start time, cancelled.

The one home of starting, cancelling and reaping run processes, for every kind of run: the
callers (``genre.training.jobs``, ``gan.jobs``) only register the run and choose its command.

A run's process is started in its own session, so it outlives Streamlit reruns, page reloads
and the browser tab, and a cancel signal reaches it (and only it) through its process group.
Cancel is one mechanism for all runs: a marker file in the run folder (so a vanished process is
told apart from a crash) and SIGTERM; the worker's handler ends the run as cancelled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from runs.files import LOG_FILE
from runs.home import HOME_ENV

if TYPE_CHECKING:  # the store imports this module for liveness; only types go the other way
    from runs.store import Run, RunRegistry

CANCEL_MARKER = "cancel-requested"  # file in a run folder: the user asked it to stop

_CHILDREN: dict[str, subprocess.Popen] = {}  # launched here; polled so they never linger as zombies


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


def start_process(registry: RunRegistry, run: Run, cmd: list[str], *, cwd: Path) -> Run:
    """Start ``cmd`` as ``run``'s process, in its own session, logging to its folder.

    The process sees the registry's root as its data folder, so it records into the same
    registry. A process that cannot start fails the run at once.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1", HOME_ENV: str(registry.root)}
    try:
        with open(run.folder / LOG_FILE, "ab") as log:
            child = subprocess.Popen(
                cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=env, start_new_session=True,
            )  # fmt: skip
    except OSError as err:
        registry.fail(run.id, f"The training process could not start: {err}.")
        return registry.get(run.id)
    _CHILDREN[run.id] = child
    registry.set_pid(run.id, child.pid)
    return registry.get(run.id)


def reap() -> None:
    """Collect exit statuses of finished children started by this process."""
    for run_id, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            del _CHILDREN[run_id]


def refresh(registry: RunRegistry) -> None:
    """Reap our children, then end runs whose process has vanished (failed, or cancelled)."""
    reap()
    registry.reconcile()


def cancel(run_id: str, registry: RunRegistry) -> str:
    """Ask a run to stop (SIGTERM to its process group); its worker marks it cancelled.

    Returns one sentence for the user. A run without a live process is marked cancelled here.
    """
    run = registry.get(run_id)
    if not run.active:
        return f"Run {run_id} has already {run.status}."
    (run.folder / CANCEL_MARKER).touch()  # lets reconcile tell a cancel from a crash
    if run.pid and run.process_alive:
        terminate(run.pid)
        return f"Stopping run {run_id}…"
    registry.mark_cancelled(run_id)
    return f"Run {run_id} cancelled."


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
