"""Give freed upload memory back to the operating system while the app server runs.

A top-level, stdlib-only module like ``cliguard``: it is server plumbing, not audio or genre code.

Why: every Streamlit session runs in its own thread, and glibc gives each thread an arena that
keeps freed blocks for reuse instead of returning them. Uploaded files, decoded audio and
spectrograms are freed when a session ends, but the arenas kept the pages: measured 0.63 GB
before four sessions uploaded 190 MB each, 1.81 GB after they closed, still held minutes later.
(The app also frees what Streamlit keeps for forgotten sessions, ``ui/session_cleanup.py``.)
Two remedies, both cheap: fewer arenas (``M_ARENA_MAX``), and a daemon thread that collects
garbage and calls ``malloc_trim(0)`` every ``interval_s`` seconds (a few ms each).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ARENA_MAX = 2  # one per core on the 2-core machines this runs on
TRIM_INTERVAL_S = 15.0
M_ARENA_MAX = -8  # glibc's mallopt parameter numbers
M_MMAP_THRESHOLD = -3
# Blocks this large or larger get their own mapping, returned to the OS the moment they are
# freed. glibc's default threshold starts at 128 KiB but rises to the size of each large block
# freed (up to 32 MiB), after which a decoded track or a spectrogram lands in the heap, where
# one small block left above it pins all of it: what the upload test saw left over varied with
# the peak (80–165 MB). A fixed threshold also turns that rise off.
MMAP_THRESHOLD = 1 << 20

DISABLE_ENV = "GENRE_STUDIO_KEEP_FREED_MEMORY"  # "1": leave it to glibc (for comparisons)

_started = threading.Event()


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.malloc_trim  # noqa: B018 -- glibc only (musl, macOS have none)
        return libc
    except (OSError, AttributeError):
        return None


def release_now() -> bool:
    """Collect garbage and return free heap pages to the OS; False where libc cannot."""
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def describe_failure(error: BaseException) -> str:
    """``error``'s type, text and the line that raised it, without formatting a traceback.

    Why not ``logger.exception``: on Python 3.11 formatting a traceback parses each source line
    with ``ast`` to place its ``^^^`` marks, and ``ast``'s recursion counter is shared by all
    threads (CPython gh-106905). Formatting one here while Streamlit compiles a page script in a
    session thread can fail that page with "SystemError: AST constructor recursion depth mismatch".
    """
    frames = traceback.extract_tb(error.__traceback__)  # reads lines, parses nothing
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


def report_once(error: BaseException, reported: set[str]) -> None:
    """Log a housekeeping failure the first time it happens, not every round."""
    description = describe_failure(error)
    if description not in reported:
        reported.add(description)
        logging.getLogger(__name__).error("memory housekeeping failed: %s", description)


def start_releasing(
    interval_s: float = TRIM_INTERVAL_S, before: Callable[[], object] | None = None
) -> bool:
    """Limit malloc arenas and start the releasing thread once per process (``before`` runs
    first on each round, e.g. to drop what closed sessions left); False if already running or
    unsupported."""
    if _started.is_set() or os.environ.get(DISABLE_ENV) == "1":
        return False
    libc = _libc()
    if libc is None:
        return False
    _started.set()
    libc.mallopt(M_ARENA_MAX, ARENA_MAX)
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)

    def loop() -> None:
        reported: set[str] = set()
        while True:
            time.sleep(interval_s)
            if before is not None:
                try:
                    before()
                except Exception as error:  # never let housekeeping kill the thread
                    report_once(error, reported)
            release_now()

    threading.Thread(target=loop, name="memory-release", daemon=True).start()
    return True
