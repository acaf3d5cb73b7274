"""Spectrograms and backbone embeddings cached on disk, per track.

A second run on the same dataset with the same front-end (or the same pretrained backbone)
reads ``.npy``/``.npz`` files instead of decoding audio again. Entries are per track (path,
size, modification time) in a folder keyed by the front-end parameters (or the backbone's
weights), so adding a few files to a dataset computes only those. Writes are atomic, so
concurrent runs share safely.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

import numpy as np

from audio import AudioError, load_audio
from genre.datasets import Track
from genre.paths import data_dir
from genre.training.frontend import Frontend

T = TypeVar("T")  # what one track's cache entry holds

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
    return _load_each(tracks, lambda track: spectrogram(track, frontend, folder), progress)


def _load_each(
    tracks: Sequence[Track],
    load: Callable[[Track], tuple[T, bool]],
    progress: Progress | None,
) -> tuple[list[T | None], list[tuple[Path, str]], int]:
    """``load`` every track (value, cache hit); an unreadable one is skipped with its reason."""
    out: list[T | None] = []
    skipped: list[tuple[Path, str]] = []
    hits = 0
    for i, track in enumerate(tracks, 1):
        try:
            value, hit = load(track)
            hits += hit
            out.append(value)
        except AudioError as err:
            skipped.append((track.path, str(err)))
            out.append(None)
        if progress:
            progress(i, len(tracks))
    return out, skipped, hits


# -- embeddings of a frozen pretrained backbone (musicnn) ------------------------------------
@dataclass
class TrackEmbedding:
    """Backbone features of one track's 3-s windows (serving grid plus half-shifted ones)."""

    features: dict[str, np.ndarray]  # name → [windows, width] float32
    serving: np.ndarray  # [windows] bool: a window the Classifier would cut
    seconds: float  # the float32 backbone pass over this track, when it was computed


@cache
def _weights_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def embedding_cache_dir(features: Sequence[str], copies: int = 0, root: Path | None = None) -> Path:
    """One folder per backbone (hash of its weights), window layout, recording-chain copies
    and feature set."""
    from genre.musicnn import PATCH_FRAMES
    from genre.training.musicnn_features import BACKBONE_WEIGHTS

    ident = (
        f"{_weights_digest(BACKBONE_WEIGHTS)}|{PATCH_FRAMES}|shifted|float32|{','.join(features)}"
    )
    if copies:  # folders without copies keep their names
        ident += f"|copies{copies}"
    key = "musicnn-" + hashlib.sha1(ident.encode()).hexdigest()[:16]
    folder = (root or data_dir() / "cache" / "embeddings") / key
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def embedding(
    track: Track, features: Sequence[str], folder: Path, copies: int = 0
) -> tuple[TrackEmbedding, bool]:
    """(the track's window embeddings, came from the cache?); raises AudioError."""
    from genre.training.musicnn_features import extract_features

    try:
        entry = folder / f"{track_key(track.path)}.npz"
    except OSError as err:
        raise AudioError(f"{track.path.name} cannot be read ({err.strerror}).") from err
    if entry.is_file():
        try:
            with np.load(entry) as stored:
                return TrackEmbedding(
                    {n: stored[n] for n in features}, stored["serving"], float(stored["seconds"])
                ), True
        except (OSError, ValueError, KeyError):
            entry.unlink(missing_ok=True)  # damaged entry: recompute
    started = time.monotonic()
    # the shipped head's own extraction, one track at a time so one bad file is skipped alone
    windows = extract_features(
        [track], low_precision=False, shifted=True, copies=copies, progress=lambda _: None,
        cache=False,
    )  # fmt: skip
    result = TrackEmbedding(
        {n: windows.features[n] for n in features}, windows.serving, time.monotonic() - started
    )
    tmp = entry.with_name(f"{entry.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, serving=result.serving, seconds=result.seconds, **result.features)
    tmp.replace(entry)
    return result, False


def load_embeddings(
    tracks: Sequence[Track],
    features: Sequence[str],
    *,
    copies: int = 0,
    progress: Progress | None = None,
    root: Path | None = None,
) -> tuple[list[TrackEmbedding | None], list[tuple[Path, str]], int]:
    """Embeddings of ``tracks`` (None where unreadable), the skipped files, cache hits; with
    ``copies`` recording-chain copies of every track as extra training windows."""
    folder = embedding_cache_dir(features, copies, root)
    return _load_each(tracks, lambda track: embedding(track, features, folder, copies), progress)
