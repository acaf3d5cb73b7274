"""Find labelled audio tracks in a user's folder, whatever its layout.

Recognised: the Kaggle copy (``genres_original/<genre>/<genre>.000NN.wav``), the original
tarball (``genres/<genre>/*.au``), and any folder whose sub-folders are class names. Class
folders are walked by :func:`genre.inputs.walk_folder`, the one folder walker: every entry that
is not used is reported with its reason (not audio by name or content, a corrupt or empty file, a
broken link, a FIFO, a folder that cannot be read), never dropped silently and never fatal.
Hidden entries (``.DS_Store``) are ignored.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

from audio.formats import AUDIO_EXTENSIONS, SOUNDFILE_EXTENSIONS
from audio.source import unusable_reason
from genre.errors import DatasetError
from genre.inputs import walk_folder
from genre.labels import GTZAN_GENRES

_NUMBER = re.compile(r"(\d+)(?!.*\d)")
NOT_AUDIO = "not an audio file"


@dataclass(frozen=True)
class Track:
    path: Path
    genre: str
    track_id: str  # file stem, e.g. "blues.00012"
    number: int  # the trailing number of the stem (GTZAN ID), or the file's rank in its class

    @property
    def gtzan_key(self) -> str:
        """``genre/genre.NNNNN`` as used by the artist-filtered split lists."""
        return f"{self.genre}/{self.genre}.{self.number:05d}"


@dataclass
class Dataset:
    root: Path
    layout: str
    tracks: list[Track]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)  # class folders without audio

    @property
    def is_gtzan(self) -> bool:
        """True when every track is named like GTZAN (``blues.00012`` in a GTZAN genre)."""
        return all(
            t.genre in GTZAN_GENRES and t.track_id == f"{t.genre}.{t.number:05d}"
            for t in self.tracks
        )

    @property
    def genres(self) -> list[str]:
        return sorted({t.genre for t in self.tracks})

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for track in self.tracks:
            out[track.genre] = out.get(track.genre, 0) + 1
        return dict(sorted(out.items()))


def _validate_folder(root: Path) -> None:
    if not root.exists():
        raise DatasetError(f"The folder {root} does not exist.")
    if not root.is_dir():
        raise DatasetError(f"{root} is a file, not a folder.")
    if not os.access(root, os.R_OK | os.X_OK):
        raise DatasetError(f"The folder {root} cannot be read (permission denied).")


def _class_root(root: Path) -> tuple[Path, str]:
    for name, layout in (("genres_original", "kaggle"), ("genres", "gtzan-original")):
        if (root / name).is_dir():
            return root / name, layout
    if (root / "Data" / "genres_original").is_dir():
        return root / "Data" / "genres_original", "kaggle"
    if (root / "audio").is_dir() and not any(p.suffix in AUDIO_EXTENSIONS for p in root.iterdir()):
        return root / "audio", "class-folders"
    return root, "class-folders"


def _unreadable_reason(path: Path) -> str | None:
    try:
        if path.stat().st_size == 0:
            return "empty file"
        if path.suffix.lower() in SOUNDFILE_EXTENSIONS:
            info = sf.info(str(path))
            if info.frames <= 0 or info.samplerate <= 0:
                return "no audio frames"
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        return f"unreadable: {str(err).splitlines()[0][:120]}"
    return None


def _class_dirs(class_root: Path, skipped: list[tuple[Path, str]]) -> list[Path]:
    """The class folders; a link among them that leads nowhere is added to ``skipped``."""
    try:
        entries = sorted(p for p in class_root.iterdir() if not p.name.startswith("."))
    except OSError as err:
        raise DatasetError(f"The folder {class_root} cannot be read ({err.strerror}).") from err
    folders = []
    for entry in entries:
        if entry.is_dir():
            folders.append(entry)
        elif entry.is_symlink() and (why := unusable_reason(entry)):  # broken, or a loop
            skipped.append((entry, _short_reason(entry, why)))
    return folders


def _short_reason(path: Path, why: str) -> str:
    """The walker's sentence about ``path`` without the path, for ``name (reason)`` lists:
    "a broken symbolic link: it points to …", "folder cannot be read: permission denied"."""
    why = why.rstrip(".")
    for prefix, lead in ((f"Cannot read the folder {path}: ", "folder cannot be read: "),
                         (f"Cannot read {path}: ", "cannot be read: "), (f"{path} is ", ""),
                         (f"{path} ", "")):  # fmt: skip
        if why.startswith(prefix):
            return lead + why[len(prefix) :]
    return why


def skipped_note(skipped: list[tuple[Path, str]], shown: int = 5) -> str:
    """`` Skipped N file(s): a.wav (reason); …; and K more.`` ("" when none): an error about
    missing tracks must not hide the files that were there but could not be used."""
    if not skipped:
        return ""
    named = "; ".join(f"{Path(p).name} ({why})" for p, why in skipped[:shown])
    more = f"; and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f" Skipped {len(skipped)} file(s): {named}{more}."


def discover(root: str | Path, *, check_readable: bool = True) -> Dataset:
    """List labelled tracks under ``root``; raises :class:`DatasetError` if there are none."""
    root = Path(root).expanduser()
    _validate_folder(root)
    class_root, layout = _class_root(root)
    tracks: list[Track] = []
    skipped: list[tuple[Path, str]] = []
    empty: list[str] = []
    class_dirs = _class_dirs(class_root, skipped)
    for class_dir in class_dirs:
        found, not_audio = walk_folder(class_dir)
        entries = sorted([*found, *((p, NOT_AUDIO) for p in not_audio)], key=lambda e: e[0])
        rank = 0
        for path, why in entries:
            if path.name.startswith("."):
                continue
            if why:
                skipped.append((path, _short_reason(path, why)))
                continue
            reason = _unreadable_reason(path) if check_readable else None
            if reason:
                skipped.append((path, reason))
                continue
            match = _NUMBER.search(path.stem)
            number = int(match.group(1)) if match else rank
            tracks.append(Track(path, class_dir.name, path.stem, number))
            rank += 1
        if rank == 0:
            empty.append(class_dir.name)
    if not tracks:
        found = ", ".join(p.name for p in class_dirs[:5]) or "no sub-folders"
        raise DatasetError(
            f"No audio tracks found in {root}. Expected class folders such as "
            f"genres_original/<genre>/*.wav or genres/<genre>/*.au (found: {found})."
            + skipped_note(skipped)
        )
    return Dataset(root=root, layout=layout, tracks=tracks, skipped=skipped, empty_classes=empty)
