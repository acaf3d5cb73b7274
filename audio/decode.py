"""Decode audio bytes or files into mono float32, with specific, user-facing errors.

soundfile (libsndfile) reads WAV (8/16/24/32-bit int, float), FLAC, OGG, MP3 and AU directly.
Anything else goes through ffmpeg when it is installed.
"""

from __future__ import annotations

import io
import shutil
import subprocess
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

AudioSource = str | Path | bytes | bytearray | BinaryIO

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


@dataclass
class Audio:
    """Decoded, validated mono audio ready for a model."""

    samples: np.ndarray  # float32, mono, shape [n]
    sample_rate: int
    source_sample_rate: int
    channels: int
    source_duration_s: float  # of the whole file, before any cut
    format: str
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def was_cut(self) -> bool:
        return self.source_duration_s > self.duration_s + 0.5


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


def _decode_with_soundfile(
    data: bytes, max_seconds: float
) -> tuple[np.ndarray, int, int, float, str, list[str]]:
    notes: list[str] = []
    with sf.SoundFile(io.BytesIO(data)) as f:
        rate = int(f.samplerate)
        channels = int(f.channels)
        declared = int(f.frames) if f.frames and f.frames > 0 else 0
        limit = int(max_seconds * rate)
        frames = min(declared, limit) if declared else limit
        block = f.read(frames=frames, dtype="float32", always_2d=True)
        fmt = f"{f.format}/{f.subtype}"
    source_seconds = (declared or len(block)) / rate
    shortfall = _wav_shortfall(data)
    if (declared and declared > len(block) and len(block) < frames) or shortfall:
        claimed = shortfall[0] if shortfall else declared / rate
        notes.append(
            f"The file seems truncated: it declares {claimed:.1f} s "
            f"but only {len(block) / rate:.1f} s could be read."
        )
    return block, rate, channels, source_seconds, fmt, notes


def _decode_with_ffmpeg(data: bytes, max_seconds: float, rate: int) -> np.ndarray:
    cmd = [
        "ffmpeg", "-v", "error", "-i", "pipe:0", "-t", str(max_seconds),
        "-f", "f32le", "-ac", "1", "-ar", str(rate), "pipe:1",
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, input=data, capture_output=True, timeout=120, check=False)
    except subprocess.TimeoutExpired as err:
        raise AudioError("ffmpeg took too long to decode this file.") from err
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError(
            "ffmpeg could not decode this file" + (f": {reason[-1]}" if reason else ".")
        )
    return np.frombuffer(done.stdout, dtype="<f4").copy()


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
    try:
        block, rate, channels, source_seconds, fmt, notes = _decode_with_soundfile(
            data, max_seconds
        )
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as err:
        other = _sniff(data, _FFMPEG_ONLY_MAGIC)
        known = _sniff(data, _SOUNDFILE_MAGIC)
        if known and not other:
            raise AudioError(
                f"{label} looks like a {known} file but is damaged or truncated, "
                "so it cannot be decoded."
            ) from err
        if shutil.which("ffmpeg") is None:
            if other:
                raise AudioError(
                    f"The format of {label} ({other}) is not supported; install ffmpeg "
                    "to read it, or convert it to WAV, FLAC, OGG or MP3."
                ) from err
            raise AudioError(
                f"{label} is not a recognised audio file (supported: WAV, FLAC, OGG, MP3, AU; "
                "other formats need ffmpeg)."
            ) from err
        rate = sample_rate or 44100
        mono = _decode_with_ffmpeg(data, max_seconds, rate)
        block, channels, fmt, notes = mono[:, None], 1, other or "ffmpeg", []
        source_seconds = len(mono) / rate
    if block.size == 0:
        raise AudioError(f"{label} contains no audio samples.")
    if not np.all(np.isfinite(block)):
        raise AudioError(f"{label} contains invalid samples (NaN or infinity); it is corrupt.")
    mono = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
    seconds = len(mono) / rate
    if seconds < min_seconds:
        raise AudioError(
            f"{label} is too short: {seconds:.2f} s; at least {min_seconds:g} s is needed."
        )
    if float(np.max(np.abs(mono))) < SILENCE_PEAK:
        raise AudioError(f"{label} is silent: there is no sound to analyse.")
    if source_seconds > max_seconds + 0.5:
        notes.append(
            f"Only the first {max_minutes:g} min of {source_seconds / 60:.1f} min were analysed."
        )
    target = sample_rate or rate
    mono = resample(mono, rate, target)
    return Audio(
        samples=np.ascontiguousarray(mono, dtype=np.float32),
        sample_rate=target,
        source_sample_rate=rate,
        channels=channels,
        source_duration_s=source_seconds,
        format=fmt,
        warnings=notes,
    )
