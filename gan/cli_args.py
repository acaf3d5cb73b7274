"""argparse types for ``python -m gan``: each value is checked where it is parsed.

A bad value is then a one-line usage error (exit 2) naming the option and the allowed range,
before any model is loaded or any folder is created, instead of a traceback from deep inside
torch or the file system.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path

from gan.config import SEED_MAX, max_samples, too_many_samples

THREADS_PER_CORE = 4  # more OpenMP threads than this per core only spin


def max_threads() -> int:
    return THREADS_PER_CORE * (os.cpu_count() or 1)


def _whole(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def int_in(low: int, high: int) -> Callable[[str], int]:
    """A whole number in ``low … high``."""

    def parse(text: str) -> int:
        value = _whole(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high} (got {value})")
        return value

    parse.__name__ = "whole number"
    return parse


def float_in(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    """A finite number in ``low … high`` (``low`` itself excluded with ``low_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        below = value <= low if low_open else value < low
        if not math.isfinite(value) or below or value > high:
            bound = "more than" if low_open else "at least"
            raise argparse.ArgumentTypeError(
                f"must be {bound} {low:g} and at most {high:g} (got {text})"
            )
        return value

    parse.__name__ = "number"
    return parse


seed = int_in(0, SEED_MAX)


def threads(text: str) -> int:
    return int_in(1, max_threads())(text)


def sample_count(text: str) -> int:
    """Samples per genre: at least one, at most the cap (``GAN_MAX_SAMPLES``)."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    cap = max_samples()
    if value > cap:
        raise argparse.ArgumentTypeError(too_many_samples(value, cap))
    return value


def training_folder(text: str) -> Path:
    """An existing folder of genre sub-folders."""
    path = Path(text).expanduser()
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"The training folder {path} {what}.")
    return path


def output_folder(text: str) -> Path:
    """A folder to write into: an existing one, or one that can be created."""
    path = Path(text).expanduser()
    problem = folder_problem(path)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return path


def folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot be used as an output folder, or None when it can."""
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            return f"The folder {path} is not writable."
        return None
    if path.exists():
        return f"{path} is a file, not a folder."
    ancestor = path
    while not ancestor.exists():
        if ancestor.is_symlink():  # a broken or looping link: mkdir would fail on it
            return f"{path} cannot be created: {ancestor} is a broken link."
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        return f"{path} cannot be created: {ancestor} is a file, not a folder."
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"{path} cannot be created: no permission to write in {ancestor}."
    return None


def make_folder(path: Path) -> Path:
    """Create an output folder checked by :func:`output_folder` (it may have changed since)."""
    from gan.errors import GanError

    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise GanError(f"The folder {path} cannot be created ({err.strerror or err}).") from err
    return path
