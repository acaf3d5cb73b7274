"""Classify many files: two files at a time, one torch thread each, results in input order.

On a 2-core CPU, musicnn's small per-track GEMMs split poorly over two threads; two tracks side
by side, each on one thread, keep both cores busy (decoding included) and raised folder throughput
by 20-35 % in measurements here (``bench/bench_classify.py``). One bad file never stops a batch:
its error is returned in its place.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch

from audio import DEFAULT_MAX_MINUTES, AudioError
from genre.classifier import Classifier, Prediction
from genre.logs import get_logger

MAX_WORKERS = 4


@dataclass
class FileResult:
    path: Path
    prediction: Prediction | None = None
    error: str | None = None


def default_workers(n_files: int) -> int:
    """One worker per core (at most MAX_WORKERS), never more than there are files."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS, n_files))


def classify_one(classifier: Classifier, path: Path, max_minutes: float) -> FileResult:
    try:
        return FileResult(path, prediction=classifier.predict(path, max_minutes=max_minutes))
    except AudioError as err:
        if err.detail:  # the technical reason, for whoever reads the log
            get_logger("genre.batch").info("%s: %s (%s)", path, err, err.detail)
        return FileResult(path, error=str(err))
    except Exception as err:  # a bug: logged with its traceback; the batch goes on
        get_logger("genre.batch").exception("classifying %s failed", path)
        return FileResult(
            path, error=f"Unexpected error ({type(err).__name__}); details in the log."
        )


def classify_files(
    classifier: Classifier,
    paths: Sequence[Path],
    *,
    max_minutes: float = DEFAULT_MAX_MINUTES,
    workers: int | None = None,
) -> Iterator[FileResult]:
    """Yield one :class:`FileResult` per path, in the order given."""
    workers = default_workers(len(paths)) if workers is None else max(1, workers)
    if workers == 1:
        for path in paths:
            yield classify_one(classifier, path, max_minutes)
        return
    threads = torch.get_num_threads()
    # torch's thread count is process-wide: split the cores between the workers, restore after.
    torch.set_num_threads(max(1, threads // workers))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="classify")
    try:
        yield from pool.map(lambda path: classify_one(classifier, path, max_minutes), paths)
    finally:  # stopped early (Ctrl-C, a closed pipe): drop the files not started yet
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(threads)
