"""What a path that is not a regular file is, in words, for the readers that refuse it.

A top-level module on purpose, like ``cliguard``: it imports only the standard library, so the
audio decoder (``audio.source``) and the image reader (``mood.images``) share it without ``mood``
depending on ``audio``.
"""

from __future__ import annotations

import stat


def special_file_kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is ("a folder", "a named pipe (FIFO)", ...); None for a
    regular file, the only kind that is read (a FIFO would block, a device would never end)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
