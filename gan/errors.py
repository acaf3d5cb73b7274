"""The one exception family of the gan package; messages are written for the end user."""


class GanError(Exception):
    """Raised when generation or training cannot go on; ``str(err)`` is a complete sentence."""
