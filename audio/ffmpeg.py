"""Decode through ffmpeg with bounded memory: the file read from disk, the output capped.

ffmpeg reads the very file the decoder opened (``/dev/fd/N`` where the system has it, so a path
swapped since the check cannot be read instead), decodes at most ``max_seconds`` plus a little
(``-t``), and its output lands in a buffer sized for that: a huge or endless input costs no
more memory than a long track. Its log goes to a temporary file, of which only the head and tail
are kept (garbage input can make ffmpeg warn for every frame).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from audio.errors import AudioError
from audio.source import Input

# ffmpeg decodes this much past the cap, so a longer file is noticed even when its container
# does not state a duration.
FFMPEG_OVERRUN_S = 2.0
FFMPEG_TIMEOUT_S = 120
REPORT_HEAD = 64 * 1024  # the input's description (Duration, Stream lines) is at the start
REPORT_TAIL = 8 * 1024  # the reason for a failure is at the end
READ_CHUNK = 1 << 20

# ffmpeg's names for channel layouts, for the channel count it reports on its input stream.
_LAYOUT_CHANNELS = {
    "mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "4.1": 5,
    "5.0": 5, "5.1": 6, "6.0": 6, "6.1": 7, "7.0": 7, "7.1": 8,
}  # fmt: skip


@dataclass
class FfmpegOutput:
    mono: np.ndarray  # float32 at the requested rate, at most max_seconds + overrun
    returncode: int
    report: str  # head and tail of ffmpeg's log

    @property
    def reason(self) -> str:
        return next((line for line in reversed(self.report.splitlines()) if line.strip()), "")

    @property
    def without_sound(self) -> bool:
        """ffmpeg read the container but found no audio stream in it (e.g. a silent video)."""
        audio = re.search(r"Stream #0:\d+.*?: Audio:", self.report)
        return "Stream #0" in self.report and audio is None

    @property
    def channels(self) -> int:
        match = re.search(r"Stream #0:\d+.*?: Audio: [^,]+, \d+ Hz, ([^,]+)", self.report)
        if not match:
            return 1
        layout = match.group(1).strip()
        counted = re.match(r"(\d+) channels", layout)
        if counted:
            return int(counted.group(1))
        return _LAYOUT_CHANNELS.get(layout.split("(")[0], 1)

    @property
    def duration_s(self) -> float | None:
        match = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", self.report)
        if not match:
            return None
        hours, minutes, seconds = match.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@contextmanager
def _ffmpeg_input(inp: Input) -> Iterator[tuple[str, tuple[int, ...]]]:
    """The ``-i`` argument and the descriptors the child must inherit for it."""
    if inp.fd is not None and os.path.isdir("/dev/fd"):
        yield f"file:/dev/fd/{inp.fd}", (inp.fd,)
        return
    # Bytes (an upload): MP4 needs to seek, a pipe cannot, so a per-call temporary file.
    with tempfile.NamedTemporaryFile(prefix="genre-studio-", suffix=".audio") as tmp:
        if inp.data is not None:
            tmp.write(inp.data)
        else:  # no /dev/fd: copy piecewise (already capped by the size check)
            offset = 0
            while chunk := inp.pread(offset, READ_CHUNK):
                tmp.write(chunk)
                offset += len(chunk)
        tmp.flush()
        yield f"file:{tmp.name}", ()


def _read_head_and_tail(log: tempfile.SpooledTemporaryFile) -> str:  # type: ignore[type-arg]
    size = log.seek(0, os.SEEK_END)
    log.seek(0)
    head = log.read(REPORT_HEAD)
    if size > REPORT_HEAD + REPORT_TAIL:
        log.seek(size - REPORT_TAIL)
        head += b"\n[...]\n" + log.read(REPORT_TAIL)
    elif size > REPORT_HEAD:
        head += log.read()
    return head.decode(errors="replace")


def run_ffmpeg(inp: Input, ffmpeg: str, max_seconds: float, rate: int, label: str) -> FfmpegOutput:
    """Decode ``inp`` to mono float32 at ``rate``; :class:`AudioError` only on a timeout."""
    seconds = max_seconds + FFMPEG_OVERRUN_S
    capacity = int(seconds * rate) + rate  # samples; -t stops ffmpeg before this
    buffer = np.empty(capacity, dtype="<f4")
    view = memoryview(buffer).cast("B")
    got = 0
    with _ffmpeg_input(inp) as (source, pass_fds), tempfile.TemporaryFile() as log:
        cmd = [
            ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "info", "-i", source,
            "-t", f"{seconds:.3f}", "-vn", "-f", "f32le", "-ac", "1", "-ar", str(rate), "pipe:1",
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, pass_fds=pass_fds
        )
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(FFMPEG_TIMEOUT_S, stop)
        timer.start()
        try:
            assert proc.stdout is not None
            while got < len(view) and (n := proc.stdout.readinto(view[got : got + READ_CHUNK])):
                got += n
            proc.stdout.close()  # output beyond the buffer: ffmpeg stops on the closed pipe
            returncode = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        report = _read_head_and_tail(log)
    if timed_out.is_set():
        raise AudioError(
            f"{label} took longer than {FFMPEG_TIMEOUT_S} s to decode with ffmpeg; "
            "convert it to WAV or FLAC and try again.",
            detail="ffmpeg timed out",
        )
    if got >= len(view):  # the buffer filled up: ffmpeg was stopped on purpose
        returncode = 0
    # Untouched pages of the buffer cost no memory; the slice is returned without a copy.
    mono = buffer[: got // 4]
    return FfmpegOutput(mono, returncode, report)
