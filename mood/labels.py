"""Emotion labels in the order of the FER-2013 mini-Xception outputs (and deepface's)."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

EMOJI: dict[str, str] = {
    "angry": "😠",
    "disgust": "🤢",
    "fear": "😨",
    "happy": "😄",
    "sad": "😢",
    "surprise": "😮",
    "neutral": "😐",
}


def article(word: str) -> str:
    """'a' or 'an' before ``word`` ("an angry mood", "a happy mood")."""
    return "an" if word[:1].lower() in "aeiou" else "a"
