"""What the Library page shows, without Streamlit: filters, table rows, mood words, uploads.

Kept here so that the page stays widgets only and every rule it applies can be tested alone.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genre.classifier import Classifier
from genre.library.analysis import Analysis, analyse_file
from genre.library.store import Track
from genre.paths import data_dir
from genre.verdict import display_name

# The model's tags that describe a mood rather than a style; "chillout" counts as "chill".
MOOD_TAGS = {
    "happy": ("happy",),
    "sad": ("sad",),
    "mellow": ("Mellow",),
    "chill": ("chill", "chillout"),
    "party": ("party",),
    "beautiful": ("beautiful",),
    "sexy": ("sexy",),
    "catchy": ("catchy",),
    "easy listening": ("easy listening",),
}
MOODS_PER_TRACK = 2
UPLOADS_FOLDER = "music"  # inside the data folder: where uploaded tracks are kept


# The tag model gives mood words low scores (~0.00-0.06 on the shared clips): below this floor a
# word is noise (a metal track would be "beautiful"), so a track may have no mood word at all.
MOOD_FLOOR = 0.02


def mood_words(track: Track, n: int = MOODS_PER_TRACK) -> list[str]:
    """Up to ``n`` mood words the model hears most in the track, strongest first."""
    scores = {
        mood: max(track.tags.get(tag, 0.0) for tag in tags) for mood, tags in MOOD_TAGS.items()
    }
    heard = [m for m in scores if scores[m] >= MOOD_FLOOR]
    return sorted(heard, key=lambda m: (-scores[m], m))[:n]


@dataclass(frozen=True)
class TrackFilter:
    """Empty fields keep everything; within one field any chosen value matches."""

    genres: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    text: str = ""  # in the artist, title or file name
    min_s: float | None = None
    max_s: float | None = None

    def keeps(self, track: Track) -> bool:
        if self.genres and track.genre not in self.genres:
            return False
        if self.tags and not set(self.tags) & set(track.top_tags()):
            return False
        if self.moods and not set(self.moods) & set(mood_words(track)):
            return False
        if self.text.strip():
            wanted = self.text.strip().casefold()
            haystack = " ".join([track.artist or "", track.title or "", Path(track.path).name])
            if wanted not in haystack.casefold():
                return False
        duration = track.duration_s or 0.0
        if self.min_s is not None and duration < self.min_s:
            return False
        return self.max_s is None or duration <= self.max_s


def apply(tracks: Iterable[Track], chosen: TrackFilter) -> list[Track]:
    return [t for t in tracks if chosen.keeps(t)]


def tag_choices(tracks: Iterable[Track]) -> list[str]:
    """Tags worth offering as a filter: those among some track's top five, most common first."""
    counts: dict[str, int] = {}
    for track in tracks:
        for tag in track.top_tags():
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t.casefold()))


TABLE_COLUMNS = (
    "Title",
    "Artist",
    "Genre",
    "Confidence",
    "Length (s)",
    "Mood",
    "Sounds like",
    "File",
)


def table_rows(tracks: Iterable[Track]) -> list[dict[str, Any]]:
    """One plain row per track for the page's table (numbers stay numbers, so they sort)."""
    return [
        {
            "Title": t.name,
            "Artist": t.artist or "",
            "Genre": display_name(t.genre or ""),
            "Confidence": t.confidence,
            "Length (s)": None if t.duration_s is None else round(t.duration_s),
            "Mood": ", ".join(mood_words(t)),
            "Sounds like": ", ".join(t.top_tags(3)),
            "File": t.path,
        }
        for t in tracks
    ]


def sorted_tags(tags: dict[str, float]) -> dict[str, float]:
    """Tag scores, highest first (the order :meth:`Match.reason` expects)."""
    return dict(sorted(tags.items(), key=lambda kv: -kv[1]))


def uploads_dir() -> Path:
    folder = data_dir() / UPLOADS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_name(name: str) -> str:
    """A file name without folders or characters a file system may refuse."""
    base = Path(name.replace("\\", "/")).name.strip()
    base = re.sub(r"[\x00-\x1f<>:\"/\\|?*]", "_", base).lstrip(".")
    return base or "upload"


def save_upload(name: str, data: bytes, folder: Path | None = None) -> Path:
    """Keep an uploaded track in the library's folder; the same upload twice is one file.

    A different file with the same name gets " (2)", " (3)"… rather than replacing it.
    """
    folder = folder or uploads_dir()
    wanted = Path(safe_name(name))
    digest = hashlib.sha256(data).digest()
    for n in range(1, 1000):
        candidate = folder / (wanted.name if n == 1 else f"{wanted.stem} ({n}){wanted.suffix}")
        if not candidate.exists():
            candidate.write_bytes(data)
            return candidate
        if hashlib.sha256(candidate.read_bytes()).digest() == digest:
            return candidate
    raise OSError(f"Too many files named {wanted.name} in {folder}.")


def analyse_upload(classifier: Classifier, name: str, data: bytes) -> Analysis:
    """Analyse an uploaded track without adding it to the library (for "More like this")."""
    suffix = Path(safe_name(name)).suffix
    with tempfile.TemporaryDirectory(prefix="library-query-") as tmp:
        path = Path(tmp) / f"query{suffix}"
        path.write_bytes(data)
        return analyse_file(classifier, path)
