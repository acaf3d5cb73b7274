"""Music from words: read a short prompt as a mix of the generator's genres.

The generator is conditioned on genre only, so only genre words (and their synonyms) steer
it; the backbone's tag words it hears ("mellow", "guitar", "sad") are named back to the user
as understood but not followed, and every other word as not understood. Nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gan.errors import GanError
from genre.musicnn import MSD_TAGS, MTT_TAGS

# Synonyms and sub-genres → the GTZAN genre the generator knows (longest phrases win).
GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "blues": ("blues", "bluesy", "delta blues", "twelve bar"),
    "classical": ("classical", "orchestra", "orchestral", "symphony", "symphonic", "baroque",
                  "chamber music", "string quartet", "concerto"),
    "country": ("country", "bluegrass", "honky tonk", "americana", "western"),
    "disco": ("disco", "funk", "funky", "boogie"),
    "hiphop": ("hip-hop", "hip hop", "hiphop", "rap", "rapping", "boom bap", "trap"),
    "jazz": ("jazz", "jazzy", "swing", "bebop", "bossa nova", "big band"),
    "metal": ("metal", "heavy metal", "thrash", "death metal", "black metal", "metalcore"),
    "pop": ("pop", "poppy", "chart pop", "bubblegum"),
    "reggae": ("reggae", "dub", "ska", "rocksteady", "dancehall"),
    "rock": ("rock", "rock and roll", "grunge", "punk", "indie rock", "hard rock"),
}  # fmt: skip
# Words before a genre that ask for less of it ("jazz with a touch of reggae").
LESS = ("a bit of", "a touch of", "a hint of", "a little", "some", "slightly")
LESS_SHARE = 0.4
_STOPWORDS = """a an and or of with the some bit touch hint little into to in on for from like
music song songs track tracks sound sounds sounding style kind sort blend mix mixed mixture plus
but very quite really slightly more less please make me play i want"""
STOPWORDS = frozenset(_STOPWORDS.split())
TAG_WORDS = frozenset(t.lower() for t in (*MSD_TAGS, *MTT_TAGS))


@dataclass
class PromptReading:
    """What a prompt asks for, and which of its words were understood."""

    mix: dict[str, float]  # genre → share, summing to 1
    genre_words: list[tuple[str, str]] = field(default_factory=list)  # (word, genre)
    heard_not_followed: list[str] = field(default_factory=list)  # tag words, no genre
    not_understood: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            "Understood: "
            + ", ".join(
                word if word == genre else f"{word} (→ {genre})" for word, genre in self.genre_words
            )
            + "."
        ]
        if self.heard_not_followed:
            words = ", ".join(f"“{w}”" for w in self.heard_not_followed)
            parts.append(f"Heard {words}, but the generator can only follow genres for now.")
        if self.not_understood:
            words = ", ".join(f"“{w}”" for w in self.not_understood)
            parts.append(f"Not understood: {words}.")
        return " ".join(parts)


def _phrases() -> list[tuple[str, str | None]]:
    """(phrase, genre or None for a tag word), longest first so "heavy metal" beats "metal"."""
    table: list[tuple[str, str | None]] = [
        (word, genre) for genre, words in GENRE_WORDS.items() for word in words
    ]
    known = {word for word, _ in table}
    table += [(tag, None) for tag in TAG_WORDS if tag not in known]
    return sorted(table, key=lambda item: -len(item[0]))


PHRASES = _phrases()


def read_prompt(text: str, labels: tuple[str, ...]) -> PromptReading:
    """The genre mix ``text`` asks for, among ``labels`` (raises GanError if it names none)."""
    cleaned = " " + re.sub(r"[^a-z0-9&+'\- ]+", " ", text.lower().replace("&", " and ")) + " "
    cleaned = re.sub(r"\s+", " ", cleaned)
    if not cleaned.strip():
        raise GanError("Type a few words, e.g. “mellow jazz” or “a blend of reggae and pop”.")
    shares: dict[str, float] = {}
    found: list[tuple[int, str, str | None]] = []  # (position, phrase, genre), in text order
    for phrase, genre in PHRASES:
        pattern = re.compile(rf"(?<=[ +]){re.escape(phrase)}(?=[ +])")
        for match in list(pattern.finditer(cleaned)):
            start, end = match.span()
            if genre is not None and genre in labels:
                less = any(cleaned[:start].rstrip().endswith(" " + word) for word in LESS)
                shares[genre] = max(shares.get(genre, 0.0), LESS_SHARE if less else 1.0)
            found.append((start, phrase, genre if genre in labels else None))
            cleaned = cleaned[:start] + " " * (end - start) + cleaned[end:]  # read once
    if not shares:
        raise GanError(
            "No genre in those words. The generator knows: "
            + ", ".join(labels)
            + " (and words like “orchestral”, “rap”, “funky”, “dub”)."
        )
    found.sort()
    total = sum(shares.values())
    return PromptReading(
        mix={genre: share / total for genre, share in shares.items()},
        genre_words=[(phrase, genre) for _, phrase, genre in found if genre is not None],
        heard_not_followed=[phrase for _, phrase, genre in found if genre is None],
        not_understood=[w for w in cleaned.replace("+", " ").split() if w not in STOPWORDS],
    )
