"""Face detection with OpenCV's Haar cascades and box drawing (reading images: mood.images).

Images are handled as BGR uint8 arrays (OpenCV's convention, and what WebRTC frames give).
Nothing here writes an image anywhere: frames live in memory only.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mood.errors import MoodError
from mood.images import ImageLimits, read_image, to_bgr

__all__ = [
    "Box",
    "FaceDetector",
    "ImageLimits",
    "draw_faces",
    "live_detector",
    "read_image",
    "to_bgr",
]

# The frontal-face cascade was trained on 24×24 windows: a smaller face in the image it scans
# cannot be found, so downscaling for speed stops where the smallest accepted face is this big.
DETECTOR_WINDOW = 24
# Detections narrower than this fraction of the image's shorter side are rejected as implausible
# (1.2 %: a face in a 12×12 group photo is about 1.6 %; texture in large images is often smaller).
MIN_FACE_FRACTION = 0.012
EYE_CHECK_SIZE = 120  # face crops are resized to this width before looking for eyes
EYE_MIN_NEIGHBORS = 3  # tuned on LFW faces (95 of 99 kept) and texture false faces (none kept)
EYE_REGION = 0.6  # eyes lie in the upper part of a frontal face box
# Detections at least this fraction of the shorter side skip the eye check: a webcam face at arm's
# length is this big, while the cascade's texture false faces are small ones; it saves ~10 ms of CPU
# per live frame.
EYE_CHECK_BELOW = 0.2


@dataclass(frozen=True)
class Box:
    """A face box in pixel coordinates of the original image."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    def scaled(self, factor: float) -> Box:
        return Box(*(round(v * factor) for v in (self.x, self.y, self.w, self.h)))


def to_gray(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def _cascade(name: str) -> cv2.CascadeClassifier:
    cascade_dir = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not cascade_dir or not hasattr(cv2, "CascadeClassifier"):
        raise MoodError(
            "This OpenCV build has no Haar cascades (OpenCV 5 dropped them); "
            "install opencv-python-headless<5."
        )
    path = Path(cascade_dir) / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise MoodError(f"OpenCV could not load its cascade from {path}.")
    return cascade


class FaceDetector:
    """OpenCV's frontal-face Haar cascade with the settings the FER model was used with.

    ``max_width`` downscales large frames before detection (boxes are mapped back), which keeps
    live video and large photos fast; ``None`` detects at full resolution. The copy is never so
    small that a face of the smallest accepted size falls below the cascade's 24-px window.

    Accepted faces are at least ``min_size`` px and ``min_face_fraction`` of the image's shorter
    side, and (``require_eyes``) show an eye in the upper part of the box at full resolution
    unless they fill a fifth of the image: the face cascade alone fires on texture in large
    images (fabric, seams, noise), always at a small scale.
    """

    def __init__(
        self,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 50,
        max_width: int | None = None,
        min_face_fraction: float = MIN_FACE_FRACTION,
        require_eyes: bool = True,
    ) -> None:
        self._cascade = _cascade("haarcascade_frontalface_default.xml")
        self._eyes = _cascade("haarcascade_eye.xml") if require_eyes else None
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.max_width = max_width
        self.min_face_fraction = min_face_fraction
        # One cascade object may be shared by Streamlit sessions: serialise its use.
        self._lock = threading.Lock()

    def smallest_face(self, width: int, height: int) -> int:
        """The smallest face (px, in the image) this detector accepts in an image of this size."""
        return max(self.min_size, round(self.min_face_fraction * min(width, height)))

    def downscale_factor(self, width: int, height: int) -> float:
        """Original px per detection px (≥ 1): to ``max_width``, but keeping faces findable."""
        if not self.max_width or width <= self.max_width:
            return 1.0
        keeps_faces = self.smallest_face(width, height) / DETECTOR_WINDOW
        return max(1.0, min(width / self.max_width, keeps_faces))

    def detect_gray(self, gray: np.ndarray) -> list[Box]:
        """Faces in a gray image, largest first."""
        height, width = gray.shape[:2]
        smallest = self.smallest_face(width, height)
        factor = self.downscale_factor(width, height)
        small = gray
        if factor != 1.0:
            size = (round(width / factor), round(height / factor))
            small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        min_size = max(16, round(smallest / factor))
        with self._lock:
            found = self._cascade.detectMultiScale(
                small,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                flags=cv2.CASCADE_SCALE_IMAGE,
                minSize=(min_size, min_size),
            )
            boxes = [Box(*(int(v) for v in row)) for row in found]
            if factor != 1.0:
                boxes = [b.scaled(factor) for b in boxes]
            trusted = EYE_CHECK_BELOW * min(width, height)
        boxes = [
            b
            for b in boxes
            if min(b.w, b.h) >= smallest and (b.w >= trusted or self._has_eye(gray, b))
        ]
        return sorted(boxes, key=lambda b: b.area, reverse=True)

    def _has_eye(self, gray: np.ndarray, box: Box) -> bool:
        """An eye in the upper part of the box, looked for at full resolution (always true
        without the eye check)."""
        if self._eyes is None:
            return True
        x, y = max(0, box.x), max(0, box.y)
        crop = gray[y : box.y + round(box.h * EYE_REGION), x : box.x + box.w]
        if crop.size == 0:
            return False
        scale = EYE_CHECK_SIZE / box.w
        size = (EYE_CHECK_SIZE, max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(
            crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        )
        eye_min = EYE_CHECK_SIZE // 10
        eyes = self._eyes.detectMultiScale(crop, 1.1, EYE_MIN_NEIGHBORS, minSize=(eye_min, eye_min))
        return len(eyes) > 0

    def detect(self, bgr: np.ndarray) -> list[Box]:
        return self.detect_gray(to_gray(bgr))


def draw_faces(
    bgr: np.ndarray,
    boxes: Sequence[Box],
    labels: Sequence[str] = (),
    primary: int | None = 0,
) -> np.ndarray:
    """A copy of the image with every face box drawn; the primary face is green, others gray."""
    out = bgr.copy()
    thickness = max(2, round(max(out.shape[:2]) / 320))
    for index, box in enumerate(boxes):
        color = (60, 200, 60) if index == primary else (170, 170, 170)
        cv2.rectangle(out, (box.x, box.y), (box.x + box.w, box.y + box.h), color, thickness)
        if index < len(labels) and labels[index]:
            scale = max(0.5, box.w / 220)
            text = labels[index]
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
            top = max(0, box.y - th - base - 6)
            cv2.rectangle(out, (box.x, top), (box.x + tw + 6, top + th + base + 6), color, -1)
            cv2.putText(
                out, text, (box.x + 3, top + th + 3), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (20, 20, 20), thickness, cv2.LINE_AA,
            )  # fmt: skip
    return out


def live_detector() -> FaceDetector:
    """Settings for live video: 320-px-wide detection, coarser scale steps, faces ≥ 60 px.

    About 4× less CPU than fer's full-resolution settings for a webcam face at arm's length.
    """
    return FaceDetector(scale_factor=1.2, min_size=60, max_width=320)
