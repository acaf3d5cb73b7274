"""Image → faces → emotions: the one pipeline shared by the CLI, snapshot and live modes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mood.emotion import BUILTIN, EmotionRecognizer, make_recognizer
from mood.faces import Box, FaceDetector, draw_faces
from mood.labels import EMOTIONS

NO_FACE_MESSAGE = (
    "No face found. Face the camera in good light, without strong backlight, "
    "and come a little closer."
)


@dataclass(frozen=True)
class FaceEmotion:
    box: Box
    probabilities: dict[str, float]

    @property
    def emotion(self) -> str:
        return max(self.probabilities, key=self.probabilities.__getitem__)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.emotion]

    def label(self) -> str:
        return f"{self.emotion} {self.confidence:.0%}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": self.box.as_list(),
            "emotion": self.emotion,
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
        }


@dataclass(frozen=True)
class Analysis:
    """Faces largest first; the largest one is the user's mood."""

    faces: tuple[FaceEmotion, ...]
    backend: str

    @property
    def primary(self) -> FaceEmotion | None:
        return self.faces[0] if self.faces else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"faces": [f.as_dict() for f in self.faces], "backend": self.backend}
        if not self.faces:
            out["message"] = NO_FACE_MESSAGE
        return out


class MoodAnalyzer:
    """Face detection + emotion recognition for BGR frames. Keeps no frame."""

    def __init__(
        self,
        recognizer: EmotionRecognizer | None = None,
        detector: FaceDetector | None = None,
    ) -> None:
        self.recognizer = recognizer or make_recognizer(BUILTIN)
        self.detector = detector or FaceDetector()

    def analyze(self, bgr: np.ndarray) -> Analysis:
        boxes = self.detector.detect(bgr)
        probs = self.recognizer.predict(bgr, boxes) if boxes else np.zeros((0, len(EMOTIONS)))
        faces = tuple(
            FaceEmotion(box, {label: float(p) for label, p in zip(EMOTIONS, row, strict=True)})
            for box, row in zip(boxes, probs, strict=True)
        )
        return Analysis(faces, self.recognizer.name)


def annotate(bgr: np.ndarray, analysis: Analysis) -> np.ndarray:
    """A copy with every face boxed; the largest (the one that counts) in green."""
    return draw_faces(bgr, [f.box for f in analysis.faces], [f.label() for f in analysis.faces])
