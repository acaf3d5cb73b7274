"""Starting, cancelling and reaping a run's process: the one home of it, for every kind of run.

The callers (``genre.training.jobs``, ``gan.jobs``) only register the run and choose its
command. A run's process is started in its own session, so it outlives Streamlit reruns, page
reloads and the browser tab, and a cancel signal reaches it (and only it) through its process
group. Cancel is one mechanism for all runs: a marker file in the run folder (so a vanished
process is told apart from a crash) and SIGTERM; the worker's handler ends the run as cancelled.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from runs.files import LOG_FILE
from runs.home import HOME_ENV
from runs.proc import CANCEL_MARKER, terminate
from runs.store import Run, RunRegistry

_CHILDREN: dict[str, subprocess.Popen] = {}  # launched here; polled so they never linger as zombies


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
