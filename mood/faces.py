"""Face detection with OpenCV's Haar cascade, image decoding and box drawing.

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

# A 40-megapixel photo is plenty; larger inputs are more likely a mistake than a face.
MAX_PIXELS = 40_000_000


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


def read_image(source: bytes | bytearray | str | Path) -> np.ndarray:
    """Decode an image (bytes or a file path) into a BGR uint8 array; MoodError if unreadable."""
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MoodError(f"Cannot open the image {path.name!r}: {exc.strerror or exc}.") from exc
        name = path.name
    else:
        data, name = bytes(source), "the image"
    if not data:
        raise MoodError(f"{name} is empty.")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise MoodError(f"{name} is not a readable image (JPEG, PNG, WebP, BMP or TIFF expected).")
    return to_bgr(image)


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Gray, BGR or BGRA of any integer depth → BGR uint8 (validated)."""
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise MoodError(f"Unsupported image layout {image.shape}; expected a gray or color image.")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise MoodError(
            f"The image is too large ({image.shape[1]}×{image.shape[0]}); "
            f"at most {MAX_PIXELS // 1_000_000} megapixels."
        )
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise MoodError(f"Unsupported pixel type {image.dtype}; expected 8- or 16-bit images.")
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


def to_gray(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


class FaceDetector:
    """OpenCV's frontal-face Haar cascade with the settings the FER model was used with.

    ``max_width`` downscales large frames before detection (boxes are mapped back), which
    keeps live video fast; ``None`` detects at full resolution.
    """

    def __init__(
        self,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 50,
        max_width: int | None = None,
    ) -> None:
        cascade_dir = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if not cascade_dir or not hasattr(cv2, "CascadeClassifier"):
            raise MoodError(
                "This OpenCV build has no Haar cascades (OpenCV 5 dropped them); "
                "install opencv-python-headless<5."
            )
        path = Path(cascade_dir) / "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise MoodError(f"OpenCV could not load its face cascade from {path}.")
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.max_width = max_width
        # One cascade object may be shared by Streamlit sessions: serialise its use.
        self._lock = threading.Lock()

    def detect_gray(self, gray: np.ndarray) -> list[Box]:
        """Faces in a gray image, largest first."""
        factor = 1.0
        if self.max_width and gray.shape[1] > self.max_width:
            factor = gray.shape[1] / self.max_width
            size = (self.max_width, round(gray.shape[0] / factor))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        min_size = max(16, round(self.min_size / factor))
        with self._lock:
            found = self._cascade.detectMultiScale(
                gray,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                flags=cv2.CASCADE_SCALE_IMAGE,
                minSize=(min_size, min_size),
            )
        boxes = [Box(*(int(v) for v in row)) for row in found]
        if factor != 1.0:
            boxes = [b.scaled(factor) for b in boxes]
        return sorted(boxes, key=lambda b: b.area, reverse=True)

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
