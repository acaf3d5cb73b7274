"""Load a run's data: audio folders become cached spectrograms, tables become feature rows.

Whatever the source, the result is track-level: labels, GTZAN-style keys and IDs per track, so
splits are made over tracks and all windows (or table rows) of a track stay on one side.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from genre.datasets import Dataset, Track, discover, skipped_note
from genre.errors import DatasetError
from genre.training.cache import load_embeddings, load_spectrograms
from genre.training.frontend import Frontend

if TYPE_CHECKING:
    from genre.training.musicnn_features import WindowFeatures

T = TypeVar("T")  # what was loaded per track: a spectrogram or window embeddings

_GTZAN_STEM = re.compile(r"^([a-z]+)\.(\d{5})")
_TRAILING_NUMBER = re.compile(r"(\d+)(?!.*\d)")
NON_FEATURE_COLUMNS = {"filename", "label", "length"}

Progress = Callable[[int, int], None]


@dataclass
class TrackData:
    source: str
    labels: list[str]  # class names, sorted; y indexes into it
    y: np.ndarray  # [tracks] int
    keys: list[str]  # "genre/genre.NNNNN" style, used by the artist-filtered split
    numbers: np.ndarray  # [tracks] IDs (neighbouring IDs ≈ same artist in GTZAN)
    names: list[str]  # what to call each track in reports
    spectrograms: list[np.ndarray] | None = None  # per track [bins, frames] float16
    features: np.ndarray | None = None  # [rows, features] float64
    row_track: np.ndarray | None = None  # [rows] track index of each feature row
    feature_names: list[str] = field(default_factory=list)
    embeddings: WindowFeatures | None = None  # per 3-s window, of a frozen pretrained backbone
    backbone_seconds: np.ndarray | None = None  # [tracks] backbone pass per track
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cache_hits: int = 0

    @property
    def n_tracks(self) -> int:
        return len(self.y)

    @property
    def track_labels(self) -> list[str]:
        return [self.labels[i] for i in self.y]


def _check_classes(labels: list[str], source: str) -> None:
    if len(set(labels)) < 2:
        raise DatasetError(f"{source} has only one class; training needs at least two.")


def load_audio_dataset(
    folder: str | Path, frontend: Frontend, progress: Progress | None = None
) -> TrackData:
    """Discover labelled tracks, compute (or read cached) spectrograms, drop unreadable ones."""
    dataset = discover(folder)
    specs, unreadable, hits = load_spectrograms(dataset.tracks, frontend, progress=progress)
    kept, common = _decoded_tracks(folder, dataset, specs, unreadable)
    return TrackData(**common, spectrograms=[s for _, s in kept], cache_hits=hits)


def _decoded_tracks(
    folder: str | Path,
    dataset: Dataset,
    values: Sequence[T | None],
    unreadable: list[tuple[Path, str]],
) -> tuple[list[tuple[Track, T]], dict[str, Any]]:
    """The tracks that decoded, with their values, and the TrackData fields they determine."""
    kept = [(t, v) for t, v in zip(dataset.tracks, values, strict=True) if v is not None]
    if not kept:
        raise DatasetError(
            f"None of the audio files in {folder} could be decoded."
            + skipped_note([*dataset.skipped, *unreadable])
        )
    labels = sorted({t.genre for t, _ in kept})
    _check_classes(labels, str(folder))
    common = {
        "source": str(dataset.root),
        "labels": labels,
        "y": np.asarray([labels.index(t.genre) for t, _ in kept], dtype=np.int64),
        "keys": [t.gtzan_key for t, _ in kept],
        "numbers": np.asarray([t.number for t, _ in kept], dtype=np.int64),
        "names": [t.track_id for t, _ in kept],
        "skipped": [(str(p), reason) for p, reason in [*dataset.skipped, *unreadable]],
    }
    return kept, common


def load_embedding_dataset(
    folder: str | Path,
    features: tuple[str, ...],
    progress: Progress | None = None,
    copies: int | None = None,
) -> TrackData:
    """Discover labelled tracks and their musicnn window embeddings (cached), skipping bad files;
    ``copies`` recording-chain copies per track (default: the head recipe's) add training
    windows."""
    from genre.training.musicnn_features import WindowFeatures
    from genre.training.musicnn_head import HeadConfig

    if copies is None:
        copies = HeadConfig().recording_copies
    dataset = discover(folder)
    found, unreadable, hits = load_embeddings(
        dataset.tracks, features, copies=copies, progress=progress
    )
    kept, common = _decoded_tracks(folder, dataset, found, unreadable)
    windows = WindowFeatures(
        track=np.concatenate([np.full(len(e.serving), i) for i, (_, e) in enumerate(kept)]),
        serving=np.concatenate([e.serving for _, e in kept]),
        features={n: np.concatenate([e.features[n] for _, e in kept]) for n in features},
    )
    return TrackData(
        **common,
        embeddings=windows,
        backbone_seconds=np.asarray([e.seconds for _, e in kept]),
        cache_hits=hits,
    )


def _track_of(filename: str) -> tuple[str, int]:
    """``blues.00012.au`` or a 3-s row ``blues.00012.3.wav`` → ("blues.00012", 12)."""
    name = Path(str(filename)).name
    match = _GTZAN_STEM.match(name)
    if match:
        return match.group(0), int(match.group(2))
    stem = Path(name).stem
    number = _TRAILING_NUMBER.search(stem)
    return stem, int(number.group(1)) if number else 0


def load_feature_table(path: str | Path) -> TrackData:
    """A Kaggle-layout table: ``filename``, numeric feature columns, ``label``.

    Several rows may belong to one track (``features_3_sec.csv``): they are grouped by track,
    so a split never puts segments of one track on two sides.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetError(f"The feature table {path} does not exist.")
    if not path.is_file():
        raise DatasetError(f"{path} is a folder, not a feature table (a CSV file).")
    try:
        table = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DatasetError(f"The feature table {path} cannot be read as CSV ({err}).") from err
    missing = {"filename", "label"} - set(table.columns)
    if missing:
        raise DatasetError(
            f"The feature table {path.name} lacks the column(s) {', '.join(sorted(missing))}; "
            "expected the Kaggle layout (filename, features…, label)."
        )
    candidates = [c for c in table.columns if c not in NON_FEATURE_COLUMNS]
    numeric = table[candidates].apply(pd.to_numeric, errors="coerce")
    columns = [c for c in candidates if numeric[c].notna().mean() > 0.5]
    if not columns:
        raise DatasetError(f"The feature table {path.name} has no numeric feature columns.")
    values = numeric[columns].to_numpy(dtype=np.float64)
    good = np.isfinite(values).all(axis=1) & table["label"].notna().to_numpy()
    skipped = [
        (str(table["filename"].iloc[i]), "missing or non-numeric values")
        for i in np.flatnonzero(~good)
    ]
    table, values = table[good].reset_index(drop=True), values[good]
    if table.empty:
        raise DatasetError(f"The feature table {path.name} has no complete rows.")
    track_ids: dict[str, int] = {}
    row_track, names, numbers, track_label, keys = [], [], [], [], []
    for filename, label in zip(table["filename"], table["label"].astype(str), strict=True):
        stem, number = _track_of(filename)
        ident = f"{label}/{stem}"
        if ident not in track_ids:
            track_ids[ident] = len(names)
            names.append(stem)
            numbers.append(number)
            track_label.append(label)
            keys.append(ident)
        row_track.append(track_ids[ident])
    labels = sorted(set(track_label))
    _check_classes(labels, path.name)
    return TrackData(
        source=str(path),
        labels=labels,
        y=np.asarray([labels.index(g) for g in track_label], dtype=np.int64),
        keys=keys,
        numbers=np.asarray(numbers, dtype=np.int64),
        names=names,
        features=values,
        row_track=np.asarray(row_track, dtype=np.int64),
        feature_names=columns,
        skipped=skipped,
    )
