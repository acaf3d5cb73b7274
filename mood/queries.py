"""Mood → YouTube search queries.

The table maps each detected emotion to words describing music that fits it (a sad face gets
soothing, comforting songs rather than sadder ones). The page lets the user edit the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mood.errors import MoodError
from mood.labels import EMOTIONS

DEFAULT_TABLE: dict[str, tuple[str, ...]] = {
    "happy": ("upbeat", "happy", "feel good"),
    "sad": ("soothing", "comforting", "uplifting"),
    "angry": ("calm", "relaxing", "chill"),
    "fear": ("calm", "reassuring", "peaceful"),
    "surprise": ("energetic", "exciting", "dance"),
    "disgust": ("fresh", "positive", "feel good"),
    "neutral": ("chill", "popular", "easy listening"),
}

# Languages offered first in the picker; any other language the user types works too.
LANGUAGES: tuple[str, ...] = (
    "English",
    "Spanish",
    "Hindi",
    "Portuguese",
    "French",
    "German",
    "Italian",
    "Arabic",
    "Turkish",
    "Japanese",
    "Korean",
    "Mandarin",
    "Tamil",
    "Bengali",
    "Punjabi",
    "Russian",
    "Indonesian",
    "Swahili",
    "Yoruba",
    "Instrumental",
)
DEFAULT_LANGUAGE = "English"
MAX_ARTISTS = 5
MAX_TEXT = 60


@dataclass(frozen=True)
class Query:
    """One search: its text and, when it asks for a chosen artist, that artist."""

    text: str
    artist: str | None = None


def _clean(text: str, what: str) -> str:
    cleaned = " ".join(str(text).split())
    if len(cleaned) > MAX_TEXT:
        raise MoodError(
            f"The {what} {cleaned[:20]!r}… is too long (at most {MAX_TEXT} characters)."
        )
    return cleaned


def normalise_table(table: Mapping[str, Sequence[str] | str] | None) -> dict[str, tuple[str, ...]]:
    """Validate a user-edited table; missing emotions keep their defaults."""
    result = dict(DEFAULT_TABLE)
    for emotion, words in (table or {}).items():
        if emotion not in EMOTIONS:
            raise MoodError(f"Unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}.")
        if isinstance(words, str):
            words = words.split(",")
        cleaned = tuple(w for w in (_clean(w, "mood word") for w in words) if w)
        if not cleaned:
            raise MoodError(f"Give at least one word for {emotion!r} (for example 'calm').")
        result[emotion] = cleaned
    return result


def build_queries(
    emotion: str,
    language: str = DEFAULT_LANGUAGE,
    artists: Sequence[str] = (),
    table: Mapping[str, Sequence[str] | str] | None = None,
) -> list[Query]:
    """Search queries for a mood: one per chosen artist, then two general ones.

    Example: happy, Spanish, ["Shakira"] → "Shakira upbeat happy songs",
    "upbeat happy Spanish songs", "feel good Spanish songs".
    """
    if emotion not in EMOTIONS:
        raise MoodError(f"Unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}.")
    words = normalise_table(table)[emotion]
    language = _clean(language, "language") or DEFAULT_LANGUAGE
    names = [a for a in (_clean(a, "artist name") for a in artists) if a]
    names = list(dict.fromkeys(names))  # keep order, drop repeats
    if len(names) > MAX_ARTISTS:
        raise MoodError(f"Pick at most {MAX_ARTISTS} artists.")

    lead = " ".join(words[:2])
    queries = [Query(f"{artist} {lead} songs", artist) for artist in names]
    # "Instrumental" is a style, not a language: say "music", not "songs".
    noun = "music" if language.lower() == "instrumental" else "songs"
    queries.append(Query(f"{lead} {language} {noun}"))
    rest = " ".join(words[2:]) or words[0]
    queries.append(Query(f"{rest} {language} {noun}"))
    return list(dict.fromkeys(queries))
