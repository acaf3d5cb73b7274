"""Mood → tracks of the user's own music library, ranked by "sounds like" tag profiles.

Each emotion maps to a few of the 50 tags the genre model scores every track with (happy →
happy, party, catchy, dance). A track's mood score is the mean of its scores for those tags, so
the ranking needs no network: the files play from disk. The chosen artists and language use the
files' own tags: a track by a chosen artist comes first, one tagged with another language is
left out (untagged tracks stay: most files do not say their language).

``mood`` may import ``genre`` (the library lives there); ``genre`` never imports ``mood``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genre.library import store
from genre.library.schema import connect, default_db_path
from genre.musicnn import MSD_TAGS
from mood.errors import MoodError
from mood.labels import EMOTIONS

# One source of defaults for the page and the CLI. Tag names as the model spells them.
DEFAULT_PROFILES: dict[str, tuple[str, ...]] = {
    "happy": ("happy", "party", "catchy", "dance"),
    "sad": ("sad", "Mellow", "beautiful"),
    "angry": ("metal", "hard rock", "punk", "heavy metal"),
    "fear": ("chill", "chillout", "ambient", "easy listening", "Mellow"),
    "surprise": ("party", "dance", "electronic", "catchy", "House"),
    "disgust": ("happy", "catchy", "pop", "easy listening"),
    "neutral": ("chill", "chillout", "ambient", "easy listening", "Mellow"),
}
INSTRUMENTAL = "instrumental"  # a "language" in the picker, and a tag the model scores
DEFAULT_LIMIT = 10
EMPTY_HINT = (
    "Your music library is empty: add a folder on the Library page or with "
    "`python -m genre library add FOLDER`, and songs that fit your mood play offline."
)
_KNOWN = {t.casefold(): t for t in MSD_TAGS}
# What a file's language tag may say for the picker's languages (ISO 639-1 and -2 codes).
LANGUAGE_CODES: dict[str, tuple[str, ...]] = {
    "english": ("en", "eng"),
    "spanish": ("es", "spa"),
    "hindi": ("hi", "hin"),
    "portuguese": ("pt", "por"),
    "french": ("fr", "fra", "fre"),
    "german": ("de", "deu", "ger"),
    "italian": ("it", "ita"),
    "arabic": ("ar", "ara"),
    "turkish": ("tr", "tur"),
    "japanese": ("ja", "jpn"),
    "korean": ("ko", "kor"),
    "mandarin": ("zh", "zho", "chi", "cmn", "chinese"),
    "tamil": ("ta", "tam"),
    "bengali": ("bn", "ben"),
    "punjabi": ("pa", "pan"),
    "russian": ("ru", "rus"),
    "indonesian": ("id", "ind"),
    "swahili": ("sw", "swa"),
    "yoruba": ("yo", "yor"),
}


@dataclass(frozen=True)
class LocalTrack:
    """One library track recommended for a mood."""

    file: str
    title: str
    artist: str | None
    genre: str | None
    tags: dict[str, float]  # the mood's profile tags with this track's scores
    score: float  # mean of those scores, 0..1
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The ``local`` entries of ``python -m mood recommend --json``."""
        return {
            "file": self.file,
            "title": self.title,
            "artist": self.artist,
            "genre": self.genre,
            "tags": self.tags,
            "score": round(self.score, 6),
            "reason": self.reason,
        }


def normalise_profiles(
    profiles: Mapping[str, Sequence[str] | str | None] | None,
) -> dict[str, tuple[str, ...]]:
    """Validate user-edited profiles (tags matched case-insensitively); missing ones: defaults."""
    result = dict(DEFAULT_PROFILES)
    for emotion, words in (profiles or {}).items():
        if emotion not in EMOTIONS:
            raise MoodError(f"Unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}.")
        if words is None or isinstance(words, str):  # a cleared table cell is None
            words = (words or "").split(",")
        names = [" ".join(str(w).split()) for w in words]
        names = [n for n in names if n]
        unknown = [n for n in names if n.casefold() not in _KNOWN]
        if unknown:
            raise MoodError(
                f"{', '.join(repr(u) for u in unknown)} (for {emotion}) is not a tag the model "
                f"knows. Known tags: {', '.join(sorted(MSD_TAGS, key=str.casefold))}."
            )
        if not names:
            raise MoodError(f"Give at least one tag for {emotion!r} (for example 'chill').")
        result[emotion] = tuple(dict.fromkeys(_KNOWN[n.casefold()] for n in names))
    return result


def _speaks(file_language: str, language: str) -> bool:
    said, wanted = file_language.casefold().strip(), language.casefold().strip()
    return said == wanted or said in LANGUAGE_CODES.get(wanted, ())


def _by_artist(track: store.Track, artists: Sequence[str]) -> str | None:
    who = (track.artist or "").casefold()
    return next((a for a in artists if a.strip() and a.strip().casefold() in who), None)


def rank_tracks(
    tracks: Sequence[store.Track],
    emotion: str,
    *,
    language: str = "",
    artists: Sequence[str] = (),
    profiles: Mapping[str, Sequence[str] | str | None] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[LocalTrack]:
    """The ``limit`` tracks that fit ``emotion`` best: chosen artists first, then by score."""
    if emotion not in EMOTIONS:
        raise MoodError(f"Unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}.")
    profile = list(normalise_profiles(profiles)[emotion])
    if language.strip().casefold() == INSTRUMENTAL and INSTRUMENTAL not in profile:
        profile.append(INSTRUMENTAL)
    ranked: list[tuple[bool, float, str, LocalTrack]] = []
    for track in tracks:
        if track.status != "ok" or not track.tags or track.is_music is False:
            continue
        said = track.file_tags.get("language")
        speaks = True if not said else _speaks(said, language)
        if language.strip() and language.casefold() != INSTRUMENTAL and not speaks:
            continue  # the file says it is sung in another language
        scores = {t: round(float(track.tags.get(t, 0.0)), 4) for t in profile}
        score = sum(float(track.tags.get(t, 0.0)) for t in profile) / len(profile)
        artist = _by_artist(track, artists)
        top = max(scores, key=scores.__getitem__)
        reason = f"by {track.artist}, an artist you chose; " if artist else ""
        reason += f"sounds {top} ({scores[top]:.0%})"
        if said and speaks and language.strip():
            reason += f", tagged {said}"
        local = LocalTrack(track.path, track.name, track.artist, track.genre, scores, score, reason)
        ranked.append((artist is not None, score, track.path, local))
    ranked.sort(key=lambda item: (not item[0], -item[1], item[2]))
    return [item[3] for item in ranked[: max(0, limit)]]


def library_tracks(db: Path | None = None) -> list[store.Track]:
    """The library's playable tracks; [] (no file created) when there is no library yet."""
    path = Path(db) if db is not None else default_db_path()
    if not path.is_file():
        return []
    try:
        conn = connect(path)
    except sqlite3.Error as err:
        raise MoodError(f"The music library {path} cannot be read: {err}") from err
    try:
        return [t for t in store.tracks(conn) if Path(t.path).is_file()]
    finally:
        conn.close()
