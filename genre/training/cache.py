"""Spectrograms cached on disk, keyed by the audio file and the front-end parameters.

A second run on the same dataset with the same front-end reads ``.npy`` files instead of
decoding audio again. Entries are per track (path, size, modification time), so adding a few
files to a dataset computes only those. Writes are atomic, so concurrent runs share safely.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from audio import AudioError, load_audio
from genre.datasets import Track
from genre.paths import data_dir
from genre.training.frontend import Frontend

Progress = Callable[[int, int], None]  # (done, total)
MAX_MINUTES = 10.0  # longer files are cut, as on the Classify page


def cache_dir(frontend: Frontend, root: Path | None = None) -> Path:
    folder = (root or data_dir() / "cache" / "spectrograms") / frontend.key()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def track_key(path: Path) -> str:
    stat = path.stat()
    ident = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha1(ident.encode()).hexdigest()


def spectrogram(track: Track, frontend: Frontend, folder: Path) -> tuple[np.ndarray, bool]:
    """(float16 [bins, frames], came from the cache?) for one track; raises AudioError."""
    try:
        entry = folder / f"{track_key(track.path)}.npy"
    except OSError as err:
        raise AudioError(f"{track.path.name} cannot be read ({err.strerror}).") from err
    if entry.is_file():
        try:
            return np.load(entry), True
        except (OSError, ValueError):
            entry.unlink(missing_ok=True)  # damaged entry: recompute
    audio = load_audio(track.path, sample_rate=frontend.spec.sample_rate, max_minutes=MAX_MINUTES)
    spec = frontend(audio.samples).astype(np.float16)
    tmp = entry.with_name(f"{entry.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, spec)
    tmp.replace(entry)
    return spec, False


def load_spectrograms(
    tracks: Sequence[Track],
    frontend: Frontend,
    *,
    progress: Progress | None = None,
    root: Path | None = None,
) -> tuple[list[np.ndarray | None], list[tuple[Path, str]], int]:
    """Spectrograms of ``tracks`` (None where unreadable), the skipped files, cache hits."""
    folder = cache_dir(frontend, root)
    out: list[np.ndarray | None] = []
    skipped: list[tuple[Path, str]] = []
    hits = 0
    for i, track in enumerate(tracks, 1):
        try:
            spec, hit = spectrogram(track, frontend, folder)
            hits += hit
            out.append(spec)
        except AudioError as err:
            skipped.append((track.path, str(err)))
            out.append(None)
        if progress:
            progress(i, len(tracks))
    return out, skipped, hits
