"""Decode audio bytes or files into mono float32, with specific, user-facing errors.

soundfile (libsndfile) reads WAV (8/16/24/32-bit int, float), FLAC, OGG, MP3 and AU directly.
Anything else goes through ffmpeg when it is installed.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from audio.errors import AudioError
from audio.resample import resample

MIN_SECONDS = 1.0
DEFAULT_MAX_MINUTES = 10.0
# -80 dBFS: quieter than any real recording's peak, louder than dither or a muted mic.
SILENCE_PEAK = 1e-4
# Frames per read when salvaging a damaged file: small, so little before the damage is lost.
SALVAGE_BLOCK = 1 << 12
# ffmpeg decodes this much past the cap, so a longer file is noticed even when its container
# does not state a duration.
FFMPEG_OVERRUN_S = 2.0
FFMPEG_TIMEOUT_S = 120
SUPPORTED = "WAV, FLAC, OGG, MP3, AU"

AudioSource = str | Path | bytes | bytearray | BinaryIO

log = logging.getLogger(__name__)

# Magic numbers of containers libsndfile cannot open but ffmpeg can, to tell
# "unsupported format" apart from "not audio at all".
_FFMPEG_ONLY_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "MP4/M4A/AAC"),
    (0, b"\x1a\x45\xdf\xa3", "WebM/Matroska"),
    (0, b"\x30\x26\xb2\x75", "WMA/ASF"),
    (0, b"\xff\xf1", "AAC (ADTS)"),
    (0, b"\xff\xf9", "AAC (ADTS)"),
    (0, b"#!AMR", "AMR"),
    (0, b"MAC ", "Monkey's Audio"),
    (0, b"wvpk", "WavPack"),
)
# Containers libsndfile does read: a failure on these means the file is damaged.
_SOUNDFILE_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "WAV"),
    (0, b"RIFX", "WAV"),
    (0, b"RF64", "WAV"),
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "OGG"),
    (0, b".snd", "AU"),
    (0, b"FORM", "AIFF"),
    (0, b"ID3", "MP3"),
    (0, b"\xff\xfb", "MP3"),
    (0, b"\xff\xf3", "MP3"),
    (0, b"\xff\xf2", "MP3"),
)
# ffmpeg's names for channel layouts, for the channel count it reports on its input stream.
_LAYOUT_CHANNELS = {
    "mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "4.1": 5,
    "5.0": 5, "5.1": 6, "6.0": 6, "6.1": 7, "7.0": 7, "7.1": 8,
}  # fmt: skip


@dataclass
class Audio:
    """Decoded, validated mono audio ready for a model."""

    samples: np.ndarray  # float32, mono, shape [n]
    sample_rate: int
    source_sample_rate: int
    channels: int
    source_duration_s: float  # of the whole file, before any cut (a lower bound if unknown)
    format: str
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def was_cut(self) -> bool:
        return self.source_duration_s > self.duration_s + 0.5


@dataclass
class _Decoded:
    block: np.ndarray  # float32 [frames, channels]
    rate: int
    channels: int
    source_seconds: float
    format: str
    notes: list[str] = field(default_factory=list)
    truncated: bool = False
    duration_known: bool = True


def _read_bytes(source: AudioSource) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise AudioError(f"File not found: {path}")
        if path.is_dir():
            raise AudioError(f"{path} is a folder, not an audio file.")
        try:
            return path.read_bytes()
        except OSError as err:
            raise AudioError(f"Cannot read {path}: {err.strerror or err}") from err
    data = source.read()
    return bytes(data)


def _sniff(data: bytes, table: tuple[tuple[int, bytes, str], ...]) -> str | None:
    for offset, magic, name in table:
        if data[offset : offset + len(magic)] == magic:
            return name
    return None


def sniff_format(head: bytes) -> str | None:
    """The audio container named by a file's first bytes (a few dozen suffice), or None."""
    return _sniff(head, _SOUNDFILE_MAGIC) or _sniff(head, _FFMPEG_ONLY_MAGIC)


def _a(name: str) -> str:
    """'a FLAC', 'an OGG', 'an MP3': the article as the format's name is spoken."""
    return ("an " if name.startswith(("A", "E", "I", "O", "U", "MP")) else "a ") + name


def _wav_shortfall(data: bytes) -> tuple[float, float] | None:
    """(declared s, present s) when a RIFF/WAVE file holds less data than its header claims.

    libsndfile silently shrinks its frame count to what is present, so check the header here.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, rate, block_align = 12, 0, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"fmt " and pos + 20 <= len(data):
            rate = int.from_bytes(data[pos + 12 : pos + 16], "little")
            block_align = int.from_bytes(data[pos + 20 : pos + 22], "little")
        elif chunk == b"data":
            if not (rate and block_align) or size in (0, 0xFFFFFFFF):
                return None
            present = len(data) - (pos + 8)
            if present < size - block_align:
                return size / block_align / rate, present / block_align / rate
            return None
        pos += 8 + size + (size & 1)
    return None


def _ogg_cut_short(data: bytes) -> bool:
    """True when an Ogg stream stops before its end: the last page is partial or not marked last.

    libsndfile takes an Ogg file's length from its last complete page, so a file cut in the
    middle looks whole to it; the end-of-stream flag on the final page says otherwise.
    """
    if data[:4] != b"OggS":
        return False
    last = data.rfind(b"OggS")
    header_end = last + 27
    if header_end > len(data):
        return True
    segments = data[last + 26]
    body = sum(data[header_end : header_end + segments])
    complete = header_end + segments + body == len(data)
    end_of_stream = bool(data[last + 5] & 0x04)
    return not (complete and end_of_stream)


def _salvage(data: bytes, wanted: int) -> tuple[list[np.ndarray], Exception | None]:
    """Read a damaged file in small blocks, keeping every block before the damage."""
    parts: list[np.ndarray] = []
    got = 0
    with sf.SoundFile(io.BytesIO(data)) as f:
        while got < wanted:
            try:
                part = f.read(frames=min(SALVAGE_BLOCK, wanted - got), dtype="float32",
                              always_2d=True)  # fmt: skip
            except (sf.LibsndfileError, RuntimeError) as err:
                return parts, err
            if len(part) == 0:
                break
            parts.append(part)
            got += len(part)
    return parts, None


def _decode_with_soundfile(data: bytes, max_seconds: float) -> _Decoded:
    with sf.SoundFile(io.BytesIO(data)) as f:
        rate = int(f.samplerate)
        channels = int(f.channels)
        declared = int(f.frames) if f.frames and f.frames > 0 else 0
        limit = int(max_seconds * rate)
        # With no declared length, read a second past the cap to learn the file is longer.
        wanted = min(declared, limit) if declared else limit + rate
        fmt = f"{f.format}/{f.subtype}"
        damage: Exception | None = None
        try:
            parts = [f.read(frames=wanted, dtype="float32", always_2d=True)]  # one read: fast
        except (sf.LibsndfileError, RuntimeError) as err:
            parts, damage = _salvage(data, wanted)
            if not parts:
                raise err from None
    got = sum(len(p) for p in parts)
    block = parts[0] if len(parts) == 1 else np.concatenate(parts)
    cut_short = damage is not None or bool(declared and got < wanted)
    # A stream that stops early is only as long as what could be read.
    source_seconds = (got if cut_short else max(declared, got)) / rate
    block = block[:limit]
    read_s = len(block) / rate
    notes: list[str] = []
    shortfall = _wav_shortfall(data)
    truncated = cut_short or shortfall is not None or _ogg_cut_short(data)
    if damage is not None:
        log.info("soundfile stopped after %.1f s: %s", read_s, damage)
    if shortfall or (declared and got < wanted):
        claimed = shortfall[0] if shortfall else declared / rate
        notes.append(
            f"The file seems truncated: it declares {claimed:.1f} s "
            f"but only {read_s:.1f} s could be read."
        )
    elif truncated:
        notes.append(
            f"The file seems truncated or damaged: it stops early, so only the {read_s:.1f} s "
            "that could be read were analysed."
        )
    return _Decoded(block, rate, channels, source_seconds, fmt, notes, truncated, bool(declared))


def _ffmpeg_channels(report: str) -> int:
    match = re.search(r"Stream #0:\d+.*?: Audio: [^,]+, \d+ Hz, ([^,]+)", report)
    if not match:
        return 1
    layout = match.group(1).strip()
    counted = re.match(r"(\d+) channels", layout)
    if counted:
        return int(counted.group(1))
    return _LAYOUT_CHANNELS.get(layout.split("(")[0], 1)


def _ffmpeg_duration(report: str) -> float | None:
    match = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", report)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _decode_with_ffmpeg(
    data: bytes, max_seconds: float, rate: int, ffmpeg: str, label: str, kind: str | None
) -> _Decoded:
    """Decode through ffmpeg from a per-call temporary file (MP4 needs to seek, a pipe cannot)."""
    with tempfile.NamedTemporaryFile(prefix="genre-studio-", suffix=".audio") as tmp:
        tmp.write(data)
        tmp.flush()
        cmd = [
            ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "info", "-i", tmp.name,
            "-t", f"{max_seconds + FFMPEG_OVERRUN_S:.3f}", "-vn",
            "-f", "f32le", "-ac", "1", "-ar", str(rate), "pipe:1",
        ]  # fmt: skip
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as err:
            raise AudioError(
                f"{label} took longer than {FFMPEG_TIMEOUT_S} s to decode with ffmpeg; "
                "convert it to WAV or FLAC and try again.",
                detail="ffmpeg timed out",
            ) from err
    report = done.stderr.decode(errors="replace")
    mono = np.frombuffer(done.stdout, dtype="<f4").copy()
    if done.returncode != 0 or mono.size == 0:
        reason = next((line for line in reversed(report.splitlines()) if line.strip()), "")
        detail = f"ffmpeg exit {done.returncode}: {reason.strip() or 'no audio stream'}"
        if kind:
            raise AudioError(
                f"{label} looks like {_a(kind)} file but is damaged or truncated, "
                "so it cannot be decoded.",
                detail=detail,
            )
        raise _not_audio(label, detail, ffmpeg_installed=True)
    limit = int(max_seconds * rate)
    declared = _ffmpeg_duration(report)
    duration_known = declared is not None
    source_seconds = max(declared or 0.0, len(mono) / rate)
    return _Decoded(
        block=mono[:limit, None],
        rate=rate,
        channels=_ffmpeg_channels(report),
        source_seconds=source_seconds,
        format=kind or "ffmpeg",
        duration_known=duration_known,
    )


def _not_audio(label: str, detail: str, *, ffmpeg_installed: bool) -> AudioError:
    # The same first words with or without ffmpeg; only the hint about other formats differs.
    more = "most other formats through ffmpeg" if ffmpeg_installed else "others need ffmpeg"
    return AudioError(
        f"{label} is not a recognised audio file (supported: {SUPPORTED}; {more}).",
        detail=detail,
    )


def _decode(data: bytes, label: str, max_seconds: float, sample_rate: int | None) -> _Decoded:
    try:
        return _decode_with_soundfile(data, max_seconds)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as err:
        soundfile_reason = f"soundfile: {err}"
        other = _sniff(data, _FFMPEG_ONLY_MAGIC)
        known = _sniff(data, _SOUNDFILE_MAGIC)
    if known and not other:
        raise AudioError(
            f"{label} looks like {_a(known)} file but is damaged or truncated, "
            "so it cannot be decoded.",
            detail=soundfile_reason,
        )
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        if other:
            raise AudioError(
                f"The format of {label} ({other}) is not supported; install ffmpeg "
                f"to read it, or convert it to {SUPPORTED.replace(', AU', '')}.",
                detail=soundfile_reason,
            )
        raise _not_audio(label, soundfile_reason, ffmpeg_installed=False)
    return _decode_with_ffmpeg(data, max_seconds, sample_rate or 44100, ffmpeg, label, other)


def load_audio(
    source: AudioSource,
    *,
    sample_rate: int | None = None,
    max_minutes: float = DEFAULT_MAX_MINUTES,
    min_seconds: float = MIN_SECONDS,
    name: str | None = None,
) -> Audio:
    """Decode ``source`` to mono float32 at ``sample_rate`` (the file's own rate when None).

    Raises :class:`AudioError` with a specific message for empty, non-audio, damaged,
    unsupported, too short, silent or non-finite input. At most ``max_minutes`` are decoded;
    a longer file is cut and a warning says so.
    """
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "the file")
    data = _read_bytes(source)
    if not data:
        raise AudioError(f"{label} is empty (0 bytes).")
    max_seconds = max_minutes * 60.0
    decoded = _decode(data, label, max_seconds, sample_rate)
    block, rate = decoded.block, decoded.rate
    if block.size == 0:
        if decoded.truncated:
            raise AudioError(
                f"{label} is damaged or truncated: no audio could be read from it.",
                detail="no frames before the end of the data",
            )
        raise AudioError(f"{label} contains no audio samples.")
    if not np.all(np.isfinite(block)):
        raise AudioError(f"{label} contains invalid samples (NaN or infinity); it is corrupt.")
    mono = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
    seconds = len(mono) / rate
    if seconds < min_seconds:
        why = " (the file seems truncated)" if decoded.truncated else ""
        raise AudioError(
            f"{label} is too short: {seconds:.2f} s{why}; at least {min_seconds:g} s is needed."
        )
    if float(np.max(np.abs(mono))) < SILENCE_PEAK:
        raise AudioError(f"{label} is silent: there is no sound to analyse.")
    notes = list(decoded.notes)
    if decoded.source_seconds > max_seconds + 0.5:
        if decoded.duration_known:
            total = f" of {decoded.source_seconds / 60:.1f} min"
            notes.append(f"Only the first {max_minutes:g} min{total} were analysed.")
        else:
            notes.append(f"Only the first {max_minutes:g} min were analysed; the track is longer.")
    target = sample_rate or rate
    mono = resample(mono, rate, target)
    return Audio(
        samples=np.ascontiguousarray(mono, dtype=np.float32),
        sample_rate=target,
        source_sample_rate=rate,
        channels=decoded.channels,
        source_duration_s=decoded.source_seconds,
        format=decoded.format,
        warnings=notes,
    )
