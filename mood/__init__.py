"""Mood: webcam emotion → music suggestions on YouTube, working offline too.

Frames are processed in memory only; only text search queries ever leave the machine.
"""

from mood.errors import MoodError
from mood.labels import EMOTIONS

__all__ = ["EMOTIONS", "MoodError"]
