"""The one exception family of the audio package: its message is written for the end user."""


class AudioError(Exception):
    """Raised when audio cannot be used; ``str(err)`` is a complete, user-facing sentence."""
