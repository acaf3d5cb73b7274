"""Decode audio bytes or files into mono float32, with specific, user-facing errors.

soundfile (libsndfile) reads WAV (8/16/24/32-bit int, float), FLAC, OGG, MP3 and AU directly.
Anything else goes through ffmpeg when it is installed. Only regular files within the size cap
are read (:mod:`audio.source`), and only the analysed part of them: blocks are read from disk
and mixed to mono as they come, so memory depends on ``max_minutes``, not on the file.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from audio.errors import AudioError
from audio.ffmpeg import run_ffmpeg
from audio.formats import FFMPEG_ONLY_MAGIC, SNIFF_BYTES, SOUNDFILE_MAGIC, sniff
from audio.resample import resample
from audio.source import AudioSource, Input, open_input

MIN_SECONDS = 1.0
DEFAULT_MAX_MINUTES = 10.0
# The most any caller should ask for: memory grows with the analysed minutes (~0.45 GB peak for
# 10 min of a 48 kHz file, up to ~1 GB for 30 min), never with the file's size.
MAX_ANALYSIS_MINUTES = 30.0
# -80 dBFS: quieter than any real recording's peak, louder than dither or a muted mic.
SILENCE_PEAK = 1e-4
# Frames per read when salvaging a damaged file: small, so little before the damage is lost.
SALVAGE_BLOCK = 1 << 12
# Samples (frames x channels) per read: a few MB whatever the channel count.
READ_BLOCK_SAMPLES = 1 << 20
# Above this rate soundfile's mono buffer for a 10-minute analysis would pass ~0.5 GB, so such
# files (DXD, 352.8 kHz and up) are decoded by ffmpeg, which resamples as it goes.
MAX_SOUNDFILE_RATE = 192_000
SUPPORTED = "WAV, FLAC, OGG, MP3, AU"
# The tail of an Ogg stream that holds its last page (pages are at most 65,307 bytes).
OGG_TAIL = 70_000

log = logging.getLogger(__name__)


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


def _a(name: str) -> str:
    """'a FLAC', 'an OGG', 'an MP3': the article as the format's name is spoken."""
    return ("an " if name.startswith(("A", "E", "I", "O", "U", "MP")) else "a ") + name


def _wav_shortfall(inp: Input) -> tuple[float, float] | None:
    """(declared s, present s) when a RIFF/WAVE file holds less data than its header claims.

    libsndfile silently shrinks its frame count to what is present, so check the header here.
    """
    if inp.pread(0, 4) != b"RIFF" or inp.pread(8, 4) != b"WAVE":
        return None
    pos, rate, block_align = 12, 0, 0
    while pos + 8 <= inp.size:
        header = inp.pread(pos, 8)
        chunk, size = header[:4], int.from_bytes(header[4:8], "little")
        if chunk == b"fmt " and pos + 22 <= inp.size:
            fmt = inp.pread(pos + 8, 14)
            rate = int.from_bytes(fmt[4:8], "little")
            block_align = int.from_bytes(fmt[12:14], "little")
        elif chunk == b"data":
            if not (rate and block_align) or size in (0, 0xFFFFFFFF):
                return None
            present = inp.size - (pos + 8)
            if present < size - block_align:
                return size / block_align / rate, present / block_align / rate
            return None
        pos += 8 + size + (size & 1)
    return None


def _ogg_cut_short(inp: Input) -> bool:
    """True when an Ogg stream stops before its end: the last page is partial or not marked last.

    libsndfile takes an Ogg file's length from its last complete page, so a file cut in the
    middle looks whole to it; the end-of-stream flag on the final page says otherwise.
    """
    if inp.pread(0, 4) != b"OggS":
        return False
    start = max(0, inp.size - OGG_TAIL)
    data = inp.pread(start, inp.size - start)
    last = data.rfind(b"OggS")
    if last < 0:
        return True
    header_end = last + 27
    if header_end > len(data):
        return True
    segments = data[last + 26]
    body = sum(data[header_end : header_end + segments])
    complete = header_end + segments + body == len(data)
    end_of_stream = bool(data[last + 5] & 0x04)
    return not (complete and end_of_stream)


def _read_mono(f: sf.SoundFile, wanted: int, block: int) -> tuple[np.ndarray, Exception | None]:
    """Up to ``wanted`` frames mixed to mono block by block, and the error that stopped it."""
    out = np.empty(wanted, dtype=np.float32)  # pages are only used as they are written
    got = 0
    while got < wanted:
        try:
            part = f.read(frames=min(block, wanted - got), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as err:
            return out[:got], err
        if len(part) == 0:
            break
        out[got : got + len(part)] = part[:, 0] if part.shape[1] == 1 else part.mean(axis=1)
        got += len(part)
    return out[:got], None


class _TooFastForSoundfile(Exception):
    """The file's rate is above :data:`MAX_SOUNDFILE_RATE`: ffmpeg decodes it instead."""


def _decode_with_soundfile(inp: Input, max_seconds: float) -> _Decoded:
    with inp.soundfile() as f:
        rate = int(f.samplerate)
        channels = int(f.channels)
        if rate > MAX_SOUNDFILE_RATE:
            raise _TooFastForSoundfile(f"{rate} Hz")
        declared = int(f.frames) if f.frames and f.frames > 0 else 0
        limit = int(max_seconds * rate)
        # With no declared length, read a second past the cap to learn the file is longer.
        wanted = min(declared, limit) if declared else limit + rate
        fmt = f"{f.format}/{f.subtype}"
        mono, damage = _read_mono(f, wanted, max(1, READ_BLOCK_SAMPLES // max(1, channels)))
    if damage is not None:  # re-read in small blocks, keeping everything before the damage
        with inp.soundfile() as f:
            mono, _ = _read_mono(f, wanted, SALVAGE_BLOCK)
        if len(mono) == 0:
            raise damage
    got = len(mono)
    cut_short = damage is not None or bool(declared and got < wanted)
    # A stream that stops early is only as long as what could be read.
    source_seconds = (got if cut_short else max(declared, got)) / rate
    mono = mono[:limit]
    read_s = len(mono) / rate
    notes: list[str] = []
    shortfall = _wav_shortfall(inp)
    truncated = cut_short or shortfall is not None or _ogg_cut_short(inp)
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
    return _Decoded(
        mono[:, None], rate, channels, source_seconds, fmt, notes, truncated, bool(declared)
    )


def _decode_with_ffmpeg(
    inp: Input, max_seconds: float, rate: int, ffmpeg: str, label: str, kind: str | None
) -> _Decoded:
    done = run_ffmpeg(inp, ffmpeg, max_seconds, rate, label)
    if done.returncode != 0 or done.mono.size == 0:
        detail = f"ffmpeg exit {done.returncode}: {done.reason.strip() or 'no audio stream'}"
        if done.without_sound:
            raise AudioError(f"{label} has no sound track to analyse (only video).", detail=detail)
        if kind:
            raise AudioError(
                f"{label} looks like {_a(kind)} file but is damaged or truncated, "
                "so it cannot be decoded.",
                detail=detail,
            )
        raise _not_audio(label, detail, ffmpeg_installed=True)
    limit = int(max_seconds * rate)
    declared = done.duration_s
    return _Decoded(
        block=done.mono[:limit, None],
        rate=rate,
        channels=done.channels,
        source_seconds=max(declared or 0.0, len(done.mono) / rate),
        format=kind or "ffmpeg",
        duration_known=declared is not None,
    )


def _not_audio(label: str, detail: str, *, ffmpeg_installed: bool) -> AudioError:
    # The same first words with or without ffmpeg; only the hint about other formats differs.
    more = "most other formats through ffmpeg" if ffmpeg_installed else "others need ffmpeg"
    return AudioError(
        f"{label} is not a recognised audio file (supported: {SUPPORTED}; {more}).",
        detail=detail,
    )


def _decode(inp: Input, label: str, max_seconds: float, sample_rate: int | None) -> _Decoded:
    head = inp.pread(0, SNIFF_BYTES)
    try:
        return _decode_with_soundfile(inp, max_seconds)
    except _TooFastForSoundfile as err:
        soundfile_reason = f"sample rate {err} is decoded by ffmpeg"
        other = known = None
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as err:
        soundfile_reason = f"soundfile: {err}"
        other = sniff(head, FFMPEG_ONLY_MAGIC)
        known = sniff(head, SOUNDFILE_MAGIC)
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
    return _decode_with_ffmpeg(inp, max_seconds, sample_rate or 44100, ffmpeg, label, other)


def load_audio(
    source: AudioSource,
    *,
    sample_rate: int | None = None,
    max_minutes: float = DEFAULT_MAX_MINUTES,
    min_seconds: float = MIN_SECONDS,
    name: str | None = None,
) -> Audio:
    """Decode ``source`` to mono float32 at ``sample_rate`` (the file's own rate when None).

    Raises :class:`AudioError` with a specific message for missing, non-regular (FIFO, device,
    folder), oversized (:func:`audio.source.max_file_mb`), empty, non-audio, damaged,
    unsupported, too short, silent or non-finite input. At most ``max_minutes`` are read and
    decoded; a longer file is cut and a warning says so.
    """
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "the file")
    inp = open_input(source, label)
    try:
        if inp.size == 0:
            raise AudioError(f"{label} is empty (0 bytes).")
        max_seconds = max_minutes * 60.0
        decoded = _decode(inp, label, max_seconds, sample_rate)
    finally:
        inp.close()
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
