"""The one error of the run registry and its processes."""

from __future__ import annotations


class RunError(Exception):
    """A run does not exist or cannot change state as asked."""
