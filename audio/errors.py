"""The one exception family of the audio package: its message is written for the end user."""

from __future__ import annotations


class AudioError(Exception):
    """Raised when audio cannot be used; ``str(err)`` is a complete, user-facing sentence.

    ``detail`` holds a technical reason (e.g. ffmpeg's own error line) for the log, never for
    the user: it is worded for developers and differs between machines.
    """

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail
