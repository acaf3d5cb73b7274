"""The frozen musicnn (MSD) backbone's outputs for every 3-s window of every clip, cached.

Every clip goes through the pretrained backbone once: the serving windows (non-overlapping 3-s
patches, as musicnn and the Classifier cut them) plus, for training, windows shifted by half a
patch, which double the training windows without new artists (augmentation).
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from audio import LogMel, load_audio
from audio.degrade import random_recording_chain
from genre.datasets import Track, discover
from genre.errors import DatasetError
from genre.labels import GTZAN_GENRES
from genre.musicnn import MUSICNN_FRONTEND, PATCH_FRAMES, Musicnn, load_musicnn
from genre.paths import MUSICNN_BACKBONE_WEIGHTS, data_dir
from genre.windows import loop_to_length, window_starts

BACKBONE_WEIGHTS = MUSICNN_BACKBONE_WEIGHTS
Progress = Callable[[str], None]


@dataclass
class WindowFeatures:
    """Backbone outputs for every window of every track."""

    track: np.ndarray  # [windows] index into the track list
    serving: np.ndarray  # [windows] bool: one of the windows the Classifier would cut
    features: dict[str, np.ndarray]  # name → [windows, width]

    def select(self, names: tuple[str, ...]) -> np.ndarray:
        return np.concatenate([self.features[n] for n in names], axis=1)


def load_tracks(data_root: Path) -> tuple[list[Track], np.ndarray]:
    """The GTZAN-genre clips under ``data_root`` and their label indices."""
    dataset = discover(data_root)
    tracks = [t for t in dataset.tracks if t.genre in GTZAN_GENRES]
    if len({t.genre for t in tracks}) < 2:
        raise DatasetError(f"Need GTZAN clips of at least two genres under {data_root}.")
    labels = np.asarray([GTZAN_GENRES.index(t.genre) for t in tracks])
    return tracks, labels


def _windows(n_frames: int, shifted: bool) -> tuple[list[int], list[bool]]:
    serving = window_starts(n_frames, PATCH_FRAMES, PATCH_FRAMES)
    extra = []
    if shifted:
        half = PATCH_FRAMES // 2
        extra = [s + half for s in serving if s + half + PATCH_FRAMES <= n_frames]
    starts = serving + extra
    return starts, [True] * len(serving) + [False] * len(extra)


def recording_copies(track: Track, samples: np.ndarray, copies: int) -> list[np.ndarray]:
    """``copies`` versions of a clip through random recording chains (quieter, band-limited,
    noisy, tilted: :func:`audio.degrade.random_recording_chain`), seeded by the file's name so
    a clip gets the same copies in every run and cache."""
    rng = np.random.default_rng(zlib.crc32(track.path.name.encode()))
    rate = MUSICNN_FRONTEND.sample_rate
    return [random_recording_chain(samples, rate, rng) for _ in range(copies)]


def _cache_key(tracks: list[Track], low_precision: bool, shifted: bool, copies: int) -> str:
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(BACKBONE_WEIGHTS.read_bytes()).digest())
    digest.update(f"{low_precision}-{shifted}-{PATCH_FRAMES}".encode())
    if copies:  # keys without copies stay as they were
        digest.update(f"copies-{copies}".encode())
    for track in tracks:
        stat = track.path.stat()
        digest.update(f"{track.path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def extract_features(
    tracks: list[Track],
    *,
    low_precision: bool = False,
    shifted: bool = True,
    copies: int = 0,
    progress: Progress = print,
    cache: bool = True,
) -> WindowFeatures:
    """Run the frozen backbone over every window of every track (cached on disk), and over
    ``copies`` recording-chain copies of it (training windows only: never ``serving``)."""
    key = _cache_key(tracks, low_precision, shifted, copies)
    cache_path = data_dir() / "cache" / f"musicnn-{key}.npz"
    if cache and cache_path.is_file():
        stored = np.load(cache_path)
        names = [k for k in stored.files if k not in ("track", "serving")]
        progress(f"backbone features from cache {cache_path}")
        return WindowFeatures(stored["track"], stored["serving"], {n: stored[n] for n in names})
    backbone: Musicnn = load_musicnn(BACKBONE_WEIGHTS).set_low_precision(low_precision)
    frontend = LogMel(MUSICNN_FRONTEND).eval()
    track_ids: list[int] = []
    serving_flags: list[bool] = []
    parts: dict[str, list[np.ndarray]] = {}
    started = time.monotonic()
    for i, track in enumerate(tracks):
        samples = load_audio(track.path, sample_rate=MUSICNN_FRONTEND.sample_rate).samples
        for copy, version in enumerate([samples, *recording_copies(track, samples, copies)]):
            with torch.inference_mode():
                mel = frontend(torch.from_numpy(version))
                starts, serving = _windows(mel.shape[1], shifted)
                mel = loop_to_length(mel, PATCH_FRAMES, axis=1)  # as the Classifier serves it
                out = backbone(torch.stack([mel[:, s : s + PATCH_FRAMES] for s in starts]))
            for name in ("penultimate", "mean_pool", "max_pool", "tags"):
                parts.setdefault(name, []).append(out[name].numpy())
            track_ids += [i] * len(starts)
            serving_flags += serving if copy == 0 else [False] * len(starts)
        if (i + 1) % 10 == 0 or i + 1 == len(tracks):
            elapsed = time.monotonic() - started
            progress(f"backbone: {i + 1}/{len(tracks)} clips ({elapsed:.0f} s)")
    result = WindowFeatures(
        np.asarray(track_ids),
        np.asarray(serving_flags),
        {k: np.concatenate(v).astype(np.float32) for k, v in parts.items()},
    )
    if cache:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(".tmp.npz")
        np.savez(tmp, track=result.track, serving=result.serving, **result.features)
        tmp.replace(cache_path)
    return result
