"""A trainer's Cancel: SIGTERM (the Training page's Cancel) and Ctrl-C, for ``genre`` and ``gan``.

A signal handler raises in whatever Python code is running. When that is a callback C code
made, cffi prints "Exception ignored from cffi callback" and the cancel is lost. soundfile read
our files so (5 of 20 cancels lost while ``genre train`` decoded clips, 1 of 4 for ``gan train
--measure``) until files went to libsndfile as descriptors (audio/source.py); bytes still go
through callbacks. So the handler also records the request, and trainers call
:meth:`StopRequest.check` between files, steps and phases.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_CANCELLED = 130  # a cancelled trainer's exit status (128 + SIGINT, as a shell reports Ctrl-C)


class RunCancelled(BaseException):
    """Stop now; BaseException so that no ``except Exception`` swallows a cancel."""


class StopRequest:
    """SIGTERM and SIGINT handler.

    Inside :meth:`deferred` (a training loop that stops cleanly after its step) a signal only
    sets :attr:`requested`; elsewhere it also raises :class:`RunCancelled` at once.
    """

    def __init__(self) -> None:
        self.requested = False
        self._deferred = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            return  # one cancel is enough; let the cleanup finish
        self.requested = True
        if not self._deferred:
            raise RunCancelled()

    def check(self) -> None:
        """Raise :class:`RunCancelled` if a cancel came, even one whose raise was swallowed."""
        if self.requested:
            raise RunCancelled()

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        previous = {s: signal.signal(s, self) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():  # matters when called in-process (tests)
                signal.signal(sig, handler)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False
