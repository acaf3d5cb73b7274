"""The data a visitor can train on, picked from a list rather than typed as a server path, and
a check that says what a choice holds (how many tracks, which genres) before anything launches.

Choices: the shipped GTZAN clips, the shipped feature table, every folder under the data
folder's ``datasets/``, and a path typed by hand. The check reuses the launch's own reading of
the data (:func:`genre.training.experiment.source_tracks`), so what it reports is what a run
would train on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from genre.datasets import skipped_note
from genre.errors import GenreError
from genre.paths import REPO_ROOT, data_dir, shared_gtzan_dir
from genre.splits import recommended_split
from genre.training.compare import AUDIO_SOURCE, FEATURE_SOURCE
from genre.training.config import RunConfig
from genre.training.experiment import source_tracks

SHIPPED_CLIPS, SHIPPED_TABLE, TYPED = "shipped-clips", "shipped-table", "typed"
DATASET_PREFIX = "datasets/"  # keys of folders under the data folder: "datasets/<name>"
TABLE_SUFFIXES = (".csv",)
GENRES_SHOWN = 10  # GTZAN's ten genres fit on one line; more are counted, not named


@dataclass(frozen=True)
class DataChoice:
    key: str  # stable across reruns: what the page's select box remembers
    label: str  # plain words for the visitor
    kind: str | None  # FEATURE_SOURCE | AUDIO_SOURCE; None: follows the typed path
    path: Path | None  # None: typed by the visitor


@dataclass(frozen=True)
class DataCheck:
    ok: bool
    message: str  # one or two plain sentences: what was found, or what is wrong
    tracks: int = 0
    genres: tuple[str, ...] = ()
    suggestion: tuple[str, str] | None = None  # (split kind, why), from the same reading


def shipped_table() -> Path:
    """The GTZAN feature table of all 1000 tracks that ships in the repository."""
    return REPO_ROOT / "data" / "gtzan" / "features_30_sec.csv"


def shipped_clips() -> Path:
    return shared_gtzan_dir() / "audio"


def datasets_dir() -> Path:
    """Where a visitor's own data sets go: each sub-folder is offered as a choice."""
    return data_dir() / "datasets"


def data_choices() -> list[DataChoice]:
    """Everything the visitor can pick, shipped data first, "another…" last. Creates nothing:
    folders under ``datasets/`` are listed only if they exist."""
    choices = [
        DataChoice(
            SHIPPED_TABLE,
            "GTZAN feature table: all 1000 tracks, ready-made audio features (ships with the app)",
            FEATURE_SOURCE,
            shipped_table(),
        ),
        DataChoice(
            SHIPPED_CLIPS,
            "GTZAN clips: 100 real 30-second songs, 10 per genre (ships with the app)",
            AUDIO_SOURCE,
            shipped_clips(),
        ),
    ]
    folder = datasets_dir()
    if folder.is_dir():
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and p.name[0] != "."):
            choices.append(
                DataChoice(
                    DATASET_PREFIX + sub.name, f"Your folder “{sub.name}”", AUDIO_SOURCE, sub
                )
            )
    choices.append(DataChoice(TYPED, "Another folder or table…", None, None))
    return choices


def kind_of_path(path: str | Path) -> str:
    """A typed path is a feature table when it is a file or named like one, else a folder."""
    p = Path(path).expanduser()
    return FEATURE_SOURCE if p.is_file() or p.suffix.lower() in TABLE_SUFFIXES else AUDIO_SOURCE


def resolve(choice: DataChoice, typed: str = "") -> tuple[str, str]:
    """(kind, path) of a choice; the typed path for "Another folder or table…"."""
    if choice.path is not None and choice.kind is not None:
        return choice.kind, str(choice.path)
    typed = typed.strip()
    return kind_of_path(typed) if typed else AUDIO_SOURCE, typed


def fingerprint(path: str) -> tuple[int, int]:
    """(folders seen, newest change) of ``path`` and the folders within three levels (the
    Kaggle layout nests genres at ``Data/genres_original/<genre>``): it changes when tracks
    are added or removed, so a cached check is redone; (0, 0) when nothing is there."""
    root = Path(path).expanduser()
    try:
        newest, seen = root.stat().st_mtime_ns, 1
    except OSError:
        return 0, 0
    level = [root] if root.is_dir() else []
    for _ in range(3):
        below: list[Path] = []
        for folder in level:
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_dir() and not entry.name.startswith("."):
                            newest = max(newest, entry.stat().st_mtime_ns)
                            below.append(Path(entry.path))
            except OSError:
                continue  # an unreadable folder is reported by the check itself
        seen += len(below)
        level = below
    return seen, newest


def check_data(kind: str, path: str, folds: int | None = None) -> DataCheck:
    """What ``path`` holds, read as a launch would read it: tracks, genres, files left out."""
    if not path.strip():
        return DataCheck(False, "Type the path of a folder of genre folders or a feature table.")
    try:
        if kind == FEATURE_SOURCE:
            tracks = source_tracks(features=path)
        else:
            tracks = source_tracks(dataset=path)
        folds = RunConfig.default("folds") if folds is None else folds
        suggestion = recommended_split(tracks.keys, tracks.labels, tracks.numbers, folds)
    except GenreError as err:
        return DataCheck(False, str(err))
    shown = ", ".join(tracks.genres[:GENRES_SHOWN])
    if len(tracks.genres) > GENRES_SHOWN:
        shown += f" and {len(tracks.genres) - GENRES_SHOWN} more"
    message = f"Found {len(tracks.labels)} tracks in {len(tracks.genres)} genres ({shown})."
    message += skipped_note(tracks.skipped)
    if tracks.empty_classes:
        message += " No audio in: " + ", ".join(tracks.empty_classes) + " (left out)."
    return DataCheck(True, message, len(tracks.labels), tuple(tracks.genres), suggestion)
