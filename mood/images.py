"""Reading images safely: regular files only, file size and pixel count checked before decoding.

The limits have one home, :class:`ImageLimits`; the environment variables below change them for
the CLI and the app alike. A file is refused before it is read when it is not a regular file
(a FIFO would block forever, a device never ends) or is larger than the size cap, and before it
is decoded when its header announces more pixels than the cap (a small PNG can declare
60000×60000, which OpenCV would refuse only with its own exception).
"""

from __future__ import annotations

import errno
import io
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from mood.errors import MoodError
from regular_files import special_file_kind

MAX_MEGAPIXELS_ENV = "MOOD_MAX_IMAGE_MEGAPIXELS"
MAX_FILE_MB_ENV = "MOOD_MAX_IMAGE_MB"
# A 40-megapixel photo is plenty; larger inputs are more likely a mistake than a face. Decoded
# as 16-bit BGRA that is at most 320 MB, so the settings stay below 250 megapixels.
DEFAULT_MAX_MEGAPIXELS = 40.0
DEFAULT_MAX_FILE_MB = 50.0
SETTING_RANGES = {MAX_MEGAPIXELS_ENV: (0.01, 250.0), MAX_FILE_MB_ENV: (0.01, 1000.0)}
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF")  # Pillow's names for their headers
NOT_AN_IMAGE = "is not a readable image (JPEG, PNG, WebP, BMP or TIFF expected)"


@dataclass(frozen=True)
class ImageLimits:
    """How large an image may be, on disk and in pixels."""

    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    max_file_mb: float = DEFAULT_MAX_FILE_MB

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1_000_000)

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ImageLimits:
        """The defaults, changed by $MOOD_MAX_IMAGE_MEGAPIXELS and $MOOD_MAX_IMAGE_MB."""
        env = os.environ if env is None else env
        return cls(
            max_megapixels=_setting(env, MAX_MEGAPIXELS_ENV, DEFAULT_MAX_MEGAPIXELS),
            max_file_mb=_setting(env, MAX_FILE_MB_ENV, DEFAULT_MAX_FILE_MB),
        )


def _setting(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    low, high = SETTING_RANGES[name]
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for nan
        raise MoodError(f"{name}={raw!r} is not a number between {low:g} and {high:g}.")
    return value


def read_image(
    source: bytes | bytearray | str | Path, limits: ImageLimits | None = None
) -> np.ndarray:
    """Decode an image (bytes or a file path) into a BGR uint8 array; MoodError if unreadable."""
    limits = limits or ImageLimits.from_env()
    if isinstance(source, str | Path):
        path = Path(source)
        data, name = read_regular_file(path, limits.max_bytes), f"The image {path.name!r}"
    else:
        data, name = bytes(source), "The image"
        if len(data) > limits.max_bytes:
            raise MoodError(_file_too_large(name, len(data), limits.max_bytes))
    if not data:
        raise MoodError(f"{name} is empty.")
    size = header_size(data)
    if size is None:
        raise MoodError(f"{name} {NOT_AN_IMAGE}.")
    check_pixels(*size, limits)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:  # a header OpenCV disagrees with; its reason is not for the user
        image = None
    if image is None or image.size == 0:
        raise MoodError(f"{name} {NOT_AN_IMAGE}.")
    return to_bgr(image, limits)


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else is a clear MoodError.

    Checked before reading: a FIFO or a device would block or never end, a folder or a link
    loop would give a misleading OS message.
    """
    prefix = f"Cannot open the image {path.name!r}"
    try:
        info = path.stat()
    except OSError as exc:
        raise MoodError(f"{prefix}: {_why_not_found(path, exc)}.") from exc
    kind = special_file_kind(info.st_mode)
    if kind:
        raise MoodError(f"{prefix}: it is {kind}, not a regular file.")
    if info.st_size > max_bytes:
        raise MoodError(_file_too_large(f"The image {path.name!r}", info.st_size, max_bytes))
    try:
        # O_NONBLOCK: should the path turn into a FIFO after the check, opening does not wait.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise MoodError(f"{prefix}: {exc.strerror or exc}.") from exc
    with os.fdopen(fd, "rb") as file:
        kind = special_file_kind(os.fstat(fd).st_mode)
        if kind:
            raise MoodError(f"{prefix}: it is {kind}, not a regular file.")
        try:
            data = file.read(max_bytes + 1)  # the file may have grown since the check
        except OSError as exc:
            raise MoodError(f"{prefix}: {exc.strerror or exc}.") from exc
    if len(data) > max_bytes:
        raise MoodError(_file_too_large(f"The image {path.name!r}", len(data), max_bytes))
    return data


def _why_not_found(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "it is a symbolic link loop (the links point at each other)"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"it is a broken symbolic link (its target {os.readlink(path)!r} does not exist)"
    return str(exc.strerror or exc)


def _file_too_large(name: str, size: int, max_bytes: int) -> str:
    return (
        f"{name} is {size / 1_000_000:.1f} MB; images of at most {max_bytes / 1_000_000:g} MB "
        f"are read (set {MAX_FILE_MB_ENV} to change the limit)."
    )


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the image header, without decoding pixels; None if not an image.

    Pillow's format plugins parse only the header on open. They are called directly rather than
    through ``Image.open`` so Pillow's own decompression-bomb guard (an exception without the
    size) does not pre-empt ours, which names the size and the setting.
    """
    Image.init()
    for name in ACCEPTED_FORMATS:
        if name not in Image.OPEN:  # a Pillow built without that codec
            continue
        factory, accept = Image.OPEN[name]
        if accept is not None and accept(data[:16]) is not True:
            continue
        try:
            with factory(io.BytesIO(data), "") as image:
                return image.size
        except (SyntaxError, IndexError, TypeError, ValueError, struct.error, OSError, EOFError):
            continue  # what Pillow's own opener treats as "not this format"
    return None


def check_pixels(width: int, height: int, limits: ImageLimits | None = None) -> None:
    limits = limits or ImageLimits.from_env()
    if width * height > limits.max_pixels:
        raise MoodError(
            f"The image is too large ({width}×{height}, {width * height / 1e6:.1f} megapixels); "
            f"at most {limits.max_megapixels:g} megapixels are read "
            f"(set {MAX_MEGAPIXELS_ENV} to change the limit)."
        )


def to_bgr(image: np.ndarray, limits: ImageLimits | None = None) -> np.ndarray:
    """Gray, BGR or BGRA of any integer depth → BGR uint8 (validated)."""
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise MoodError(f"Unsupported image layout {image.shape}; expected a gray or color image.")
    check_pixels(image.shape[1], image.shape[0], limits)
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise MoodError(f"Unsupported pixel type {image.dtype}; expected 8- or 16-bit images.")
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)
