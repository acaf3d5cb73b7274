"""The one exception family of the mood package: its message is shown to the user as is."""

from __future__ import annotations


class MoodError(Exception):
    """A user-facing problem (unreadable image, missing backend, bad settings)."""
