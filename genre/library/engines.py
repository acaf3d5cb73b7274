"""Engines turn a list of files into :class:`Analysis` results; they never touch SQLite.

The local engine runs two files at a time with one torch thread each, as ``genre.batch`` does
for classification (on a 2-core CPU that keeps both cores busy, decoding included). The Ray
engine maps batches of files over Ray actors (one CPU and one loaded model each), on this
machine or a cluster; Ray is optional (``requirements-ray.txt``) and imported only when asked.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from audio import DEFAULT_MAX_MINUTES
from genre.batch import default_workers
from genre.classifier import Classifier
from genre.library.analysis import Analysis, analyse_file, from_record, to_record
from genre.paths import REPO_ROOT


def local_engine(
    classifier: Classifier, *, workers: int | None = None, max_minutes: float = DEFAULT_MAX_MINUTES
) -> Callable[[Sequence[Path]], Iterator[Analysis]]:
    def run(paths: Sequence[Path]) -> Iterator[Analysis]:
        n = default_workers(len(paths)) if workers is None else max(1, workers)
        if n == 1:
            for path in paths:
                yield analyse_file(classifier, path, max_minutes=max_minutes)
            return
        threads = torch.get_num_threads()
        torch.set_num_threads(max(1, threads // n))  # process-wide: restored below
        pool = ThreadPoolExecutor(n, thread_name_prefix="library")
        try:
            yield from pool.map(
                lambda p: analyse_file(classifier, p, max_minutes=max_minutes), paths
            )
        finally:  # stopped early (cancel, Ctrl-C): drop the files not started yet
            pool.shutdown(wait=True, cancel_futures=True)
            torch.set_num_threads(threads)

    return run


RAY_INSTALL_HINT = "pip install -r requirements-ray.txt"
RAY_BATCH_FILES = 4  # files per Ray task: small enough for a smooth progress bar and cancel
RAY_CLIENT_PORT = 10001  # Ray Client's default port, for ray://HOST
RAY_CONNECT_TIMEOUT_S = 5.0


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here (not installed, cluster unreachable)."""


def unreachable(address: str | None, timeout: float = RAY_CONNECT_TIMEOUT_S) -> str | None:
    """Why nothing answers at a Ray address (host:port, ray://host[:port], auto); None if it does.

    None also when Ray starts its own instance (no address) or "auto" finds no cluster address
    (then ray.init says so at once).
    """
    if not address:
        return None
    target = address
    if target.startswith("ray://"):
        target = target.removeprefix("ray://")
        target = target if ":" in target else f"{target}:{RAY_CLIENT_PORT}"
    elif target == "auto":
        try:  # where `ray start` recorded its cluster; private API, hence the broad guard
            from ray._private.services import canonicalize_bootstrap_address

            target = canonicalize_bootstrap_address("auto")
        except Exception:
            return None
        if target is None:
            return None
    host, _, port = target.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except (OSError, ValueError) as err:
        return f"nothing answers at {target} ({err})"
    return None


class _BatchAnalyser:
    """One per Ray worker: loads the bundle once, then analyses batches of files."""

    def __init__(self, bundle_dir: str, max_minutes: float, threads: int) -> None:
        torch.set_num_threads(max(1, threads))
        self.classifier = Classifier(bundle_dir)
        self.max_minutes = max_minutes

    def analyse(self, paths: list[str]) -> list[dict[str, Any]]:
        return [
            to_record(analyse_file(self.classifier, Path(p), max_minutes=self.max_minutes))
            for p in paths
        ]


class RayEngine:
    """Maps batches of files over Ray actors; results stream back to the caller (the writer).

    Each actor holds one CPU and its own copy of the model. Files are read by path on the
    workers, so on a cluster every node must see the music (and this checkout) at the same path.
    """

    def __init__(
        self,
        bundle_dir: Path,
        *,
        address: str | None = None,
        workers: int | None = None,
        batch_files: int = RAY_BATCH_FILES,
        max_minutes: float = DEFAULT_MAX_MINUTES,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise EngineUnavailable(
                f"Ray is not installed; install it with: {RAY_INSTALL_HINT}"
            ) from None
        self.ray = ray
        self.bundle_dir = str(Path(bundle_dir).resolve())
        self.workers, self.batch_files, self.max_minutes = workers, batch_files, max_minutes
        self.started = not ray.is_initialized()
        if self.started:  # else: the caller's Ray (a test's local instance, a notebook's)
            why = unreachable(address)
            if why:  # ray.init would retry an address where nothing listens for ever
                raise EngineUnavailable(f"cannot reach the Ray cluster: {why}")
            try:
                ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                         log_to_driver=False, runtime_env=self.runtime_env())  # fmt: skip
            except Exception as err:  # ConnectionError, ValueError, RuntimeError… all say why
                where = address or "a new local instance"
                raise EngineUnavailable(f"cannot start Ray ({where}): {err}") from None

    @staticmethod
    def runtime_env() -> dict[str, Any]:
        # Workers import this checkout's packages, with one OpenMP thread each (one CPU each).
        return {"env_vars": {"PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1",
                             "OMP_WAIT_POLICY": "PASSIVE"}}  # fmt: skip

    def cpus(self) -> int:
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def __call__(self, paths: Sequence[Path]) -> Iterator[Analysis]:
        if not paths:
            return
        from ray.util import ActorPool

        batches = [
            [str(p) for p in paths[i : i + self.batch_files]]
            for i in range(0, len(paths), self.batch_files)
        ]
        n = min(self.workers or self.cpus(), len(batches))
        remote = self.ray.remote(num_cpus=1)(_BatchAnalyser).options(runtime_env=self.runtime_env())
        actors = [remote.remote(self.bundle_dir, self.max_minutes, 1) for _ in range(n)]
        try:
            pool = ActorPool(actors)
            for records in pool.map_unordered(lambda a, b: a.analyse.remote(b), batches):
                for record in records:
                    yield from_record(record)
        finally:  # done, cancelled or failed: free the workers (and their models) at once
            for actor in actors:
                self.ray.kill(actor)

    def close(self) -> None:
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()
