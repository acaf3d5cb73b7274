"""Background training jobs: one ``python -m genre train`` process per run.

The process is started in its own session, so it outlives Streamlit reruns, page reloads and
the browser tab, and a cancel signal reaches it (and only it) through its process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from genre.paths import REPO_ROOT
from genre.runs import CANCEL_MARKER, Run, RunRegistry
from genre.training.config import RunConfig

_CHILDREN: dict[str, subprocess.Popen] = {}  # launched here; polled so they never linger as zombies

# CLI flags for config fields (the rest are passed as --name value)
_FLAG_FIELDS = {"augment": ("--augment", "--no-augment")}


def config_to_args(config: RunConfig) -> list[str]:
    """The ``python -m genre train`` arguments that rebuild ``config``."""
    args: list[str] = []
    for name, value in config.to_dict().items():
        if value is None:
            continue
        if name in _FLAG_FIELDS:
            args.append(_FLAG_FIELDS[name][0 if value else 1])
            continue
        args += [f"--{name.replace('_', '-')}", str(value)]
    return args


def launch(config: RunConfig, registry: RunRegistry | None = None) -> Run:
    """Register a run and start its training process; returns the (queued) run."""
    registry = registry or RunRegistry()
    run = registry.create(
        model=config.model, split=config.split, dataset=config.data_source, config=config.to_dict()
    )
    cmd = [sys.executable, "-m", "genre", "train", *config_to_args(config), "--run-id", run.id]
    return start_process(registry, run, cmd)


def start_process(registry: RunRegistry, run: Run, cmd: list[str]) -> Run:
    """Start ``cmd`` as ``run``'s training process, in its own session, logging to its folder."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GENRE_STUDIO_HOME": str(registry.root)}
    try:
        with open(run.folder / "log.txt", "ab") as log:
            proc = subprocess.Popen(
                cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=env, start_new_session=True,
            )  # fmt: skip
    except OSError as err:
        registry.fail(run.id, f"The training process could not start: {err}.")
        return registry.get(run.id)
    _CHILDREN[run.id] = proc
    registry.set_pid(run.id, proc.pid)
    return registry.get(run.id)


def reap() -> None:
    """Collect exit statuses of finished children started by this process."""
    for run_id, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            del _CHILDREN[run_id]


def refresh(registry: RunRegistry) -> None:
    """Reap our children, then mark runs whose process has vanished as failed."""
    reap()
    registry.reconcile()


def cancel(run_id: str, registry: RunRegistry | None = None) -> str:
    """Ask a run to stop (SIGTERM to its process group); the trainer marks it cancelled."""
    registry = registry or RunRegistry()
    run = registry.get(run_id)
    if not run.active:
        return f"Run {run_id} has already {run.status}."
    (run.folder / CANCEL_MARKER).touch()  # lets reconcile tell a cancel from a crash
    if run.pid and run.process_alive:
        _terminate(run.pid)
        return f"Stopping run {run_id}…"
    registry.mark_cancelled(run_id)
    return f"Run {run_id} cancelled."


def _terminate(pid: int) -> None:
    """SIGTERM to the run's process group when it leads its own session (started by
    :func:`launch`), else to the process alone: a run started from a terminal shares its
    group with the shell's other jobs, which must not be signalled."""
    try:
        if os.getsid(pid) == pid:
            os.killpg(pid, signal.SIGTERM)
            return
    except (ProcessLookupError, PermissionError):
        pass
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile: reconcile records how
        os.kill(pid, signal.SIGTERM)


def log_path(run: Run) -> Path:
    return run.folder / "log.txt"
