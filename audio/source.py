"""What the decoder reads: only regular files, never more than the size cap, read where needed.

A path is checked before it is opened (a FIFO would block the open, a device would never end),
opened without blocking and checked again on the open descriptor (the path may have changed in
between), then read piecewise: the decoders seek to the part they analyse, so memory does not
grow with the file. Bytes (uploads) are capped the same way.
"""

from __future__ import annotations

import errno
import io
import math
import os
from pathlib import Path
from typing import BinaryIO

import soundfile as sf

from audio.errors import AudioError
from regular_files import special_file_kind

# The one default for the file-size cap; GENRE_STUDIO_MAX_FILE_MB overrides it (the CLIs'
# --max-file-mb sets that variable for their run). Big enough for a 2-hour CD-quality WAV;
# decoding streams, so the cap bounds disk reads and time, not memory.
MAX_FILE_MB = 2048.0
MAX_FILE_MB_ENV = "GENRE_STUDIO_MAX_FILE_MB"

AudioSource = str | Path | bytes | bytearray | BinaryIO


def max_file_mb() -> float:
    """The size cap in MB: ``GENRE_STUDIO_MAX_FILE_MB`` when set, else :data:`MAX_FILE_MB`."""
    configured = os.environ.get(MAX_FILE_MB_ENV, "").strip()
    if not configured:
        return MAX_FILE_MB
    try:
        value = float(configured)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise AudioError(
            f"{MAX_FILE_MB_ENV} must be a positive number of megabytes, not {configured!r}."
        )
    return value


def _mb(size: float) -> str:
    mb = size / 1e6
    return f"{mb:,.0f}" if mb >= 10 else f"{mb:.1f}"


def check_size(size: int, label: str, *, stream: bool = False) -> None:
    """Refuse a file over the cap before anything of it is read (a stream: once cap+1 were)."""
    cap = max_file_mb()
    if size > cap * 1e6:
        actual = f"more than {cap:g}" if stream else _mb(size)
        raise AudioError(
            f"{label} is too large: {actual} MB; the limit is {cap:g} MB. "
            f"Raise it with --max-file-mb or {MAX_FILE_MB_ENV}, or cut the file first."
        )


def _os_error(path: Path, err: OSError) -> str:
    if err.errno == errno.ELOOP:
        return f"{path} is a symbolic link loop: following its links never reaches a file."
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        if path.is_symlink():
            return f"{path} is a broken symbolic link: it points to {os.readlink(path)}, " + (
                "which does not exist."
            )
        return f"File not found: {path}"
    if err.errno == errno.EACCES:
        return f"Cannot read {path}: permission denied."
    return f"Cannot read {path}: {err.strerror or err}"


def unusable_reason(path: Path) -> str | None:
    """Why ``path`` cannot be read as an audio file (None for a regular file); reads nothing."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        return _os_error(path, err)
    kind = special_file_kind(mode)
    return f"{path} is {kind}, not a regular file." if kind else None


class Input:
    """A source the decoders read piecewise: ``size``, ``pread`` and fresh soundfile handles."""

    def __init__(self, *, data: bytes | None = None, fd: int | None = None) -> None:
        self.data, self.fd = data, fd
        self.size = len(data) if data is not None else os.fstat(fd).st_size  # type: ignore[arg-type]

    def pread(self, offset: int, n: int) -> bytes:
        if self.data is not None:
            return self.data[offset : offset + n]
        return os.pread(self.fd, n, offset)  # type: ignore[arg-type]

    def soundfile(self) -> sf.SoundFile:
        """A new handle at the start of the stream (a damaged file is re-read from scratch).

        A file goes to libsndfile as its descriptor, so libsndfile reads it itself. Given a
        Python file object, it read through cffi callbacks, and an exception a signal handler
        raised inside one (a Cancel's SIGTERM, a Ctrl-C) was swallowed there ("Exception
        ignored from cffi callback"): the signal was lost. Bytes (uploads) still go through
        callbacks."""
        if self.data is not None:
            return sf.SoundFile(io.BytesIO(self.data))
        # libsndfile takes the descriptor's offset as where the file starts
        os.lseek(self.fd, 0, os.SEEK_SET)  # type: ignore[arg-type]
        return sf.SoundFile(self.fd, closefd=False)  # type: ignore[arg-type]

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def open_input(source: AudioSource, label: str) -> Input:
    """Open ``source`` for decoding; :class:`AudioError` for anything that is not a usable file."""
    if isinstance(source, (bytes, bytearray)):
        check_size(len(source), label)
        return Input(data=bytes(source))
    if isinstance(source, (str, Path)):
        return Input(fd=_open_regular(Path(source), label))
    cap = int(max_file_mb() * 1e6)
    data = source.read(cap + 1)  # a stream has no size to check first: read one byte past
    check_size(len(data), label, stream=True)
    return Input(data=bytes(data))


def _open_regular(path: Path, label: str) -> int:
    reason = unusable_reason(path)
    if reason:
        raise AudioError(reason)
    try:
        # O_NONBLOCK: if the path became a FIFO since the check, the open still returns at once.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise AudioError(_os_error(path, err)) from err
    try:
        info = os.fstat(fd)
        kind = special_file_kind(info.st_mode)
        if kind:
            raise AudioError(f"{path} is {kind}, not a regular file.")
        check_size(info.st_size, label)
    except BaseException:
        os.close(fd)
        raise
    return fd
