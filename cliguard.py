"""One ``main()`` guard for every package's command line (``genre``, ``mood``, ``gan``).

A top-level module on purpose: it imports only the standard library, so each package can use it
without depending on another package (``mood`` does not import ``genre``), and it is not audio,
genre or image code, so it belongs to none of them.

What the guard does around a ``main(argv) -> int``:

* the package's own error family (messages written for users) -> ``error: <message>`` on one
  line of stderr, exit ``error_exit``;
* anything else (a bug, ``MemoryError``, an ``OSError`` nobody expected) -> ``error: unexpected
  error (<Type>); details in <log file>``, exit 1; the traceback goes to the log file only;
* Ctrl-C -> ``interrupted``, exit 130;
* a closed stdout (``python -m genre classify DIR | head -1``) -> quiet exit 141, like a tool
  killed by SIGPIPE, with no ``BrokenPipeError`` message at interpreter exit;
* ``SystemExit`` (argparse usage errors, exit 2) passes through untouched.

Usage (the decorated function keeps its signature, so tests can still call ``main([...])``)::

    from cliguard import guard_main
    from genre.logs import log_file          # a zero-argument callable returning a Path

    @guard_main(prog="genre", errors=(GenreError, AudioError), log_file=log_file, error_exit=2)
    def main(argv: list[str] | None = None) -> int:
        args = build_parser().parse_args(argv)
        return int(args.run(args))

``log_file`` is called only when an unexpected error happens, so a CLI that never fails never
creates a log folder. Each package keeps its own exit code for its error family (genre and gan
use 2, mood uses 1), as its ``__main__`` docstring documents.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec

P = ParamSpec("P")

EXIT_UNEXPECTED = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a tool killed by SIGPIPE


def guard_main(
    *,
    prog: str,
    errors: tuple[type[BaseException], ...],
    log_file: Callable[[], Path],
    error_exit: int = 1,
) -> Callable[[Callable[P, int]], Callable[P, int]]:
    """Decorate a CLI ``main`` so no input ever ends in a traceback on the terminal."""

    def decorate(main: Callable[P, int]) -> Callable[P, int]:
        @functools.wraps(main)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> int:
            try:
                code = main(*args, **kwargs)
                if sys.stdout is not None:  # a closed pipe shows up here, not at exit
                    sys.stdout.flush()
                return code
            except BrokenPipeError as err:
                if not _stdout_reader_gone():
                    return _unexpected(prog, err, log_file)
                _silence_stdout()
                return EXIT_BROKEN_PIPE
            except KeyboardInterrupt:
                print("interrupted", file=sys.stderr)
                return EXIT_INTERRUPTED
            except errors as err:
                _say(f"error: {err}")
                return error_exit
            except Exception as err:
                return _unexpected(prog, err, log_file)

        return guarded

    return decorate


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # stderr closed too: nothing left to tell
        print(line, file=sys.stderr, flush=True)


def _unexpected(prog: str, err: BaseException, log_file: Callable[[], Path]) -> int:
    name = type(err).__name__
    try:
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        text = "".join(traceback.format_exception(err))
        with path.open("a", encoding="utf-8") as f:
            f.write(f"{stamp} ERROR {prog}: unexpected error in the command line\n{text}")
    except Exception as log_err:  # never let a failing log hide the error itself
        _say(
            f"error: unexpected error ({name}); the log could not be written "
            f"({type(log_err).__name__}: {log_err})"
        )
        return EXIT_UNEXPECTED
    _say(f"error: unexpected error ({name}); details in {path}")
    return EXIT_UNEXPECTED


def _stdout_reader_gone() -> bool:
    """True when stdout is a pipe whose reading end is closed (so the error is not ours)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if not hasattr(select, "poll"):  # no poll(): assume the broken pipe is stdout's
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    # Linux reports POLLERR on a pipe's writing end once no reader is left.
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass
