"""Audio and spectrograms as files a browser shows: WAV bytes and PNG pictures.

No matplotlib: a 256-entry colour table and Pillow draw spectrograms fast enough for a request.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
from PIL import Image


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _lut(anchors: list[list[int]]) -> np.ndarray:
    """Interpolate anchor colours to a 256-entry uint8 table."""
    colours = np.asarray(anchors, dtype=np.float64)
    stops = np.linspace(0, 1, len(colours))
    grid = np.linspace(0, 1, 256)
    return np.stack([np.interp(grid, stops, colours[:, c]) for c in range(3)], axis=1).astype(
        np.uint8
    )


# Anchor colours of matplotlib's "magma" map.
MAGMA = _lut(
    [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
     [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]]
)  # fmt: skip


def spectrogram_levels(mel_db: np.ndarray, top_db: float = 80.0) -> np.ndarray:
    """A log-mel in dB → 0..1 brightness, the loudest cell at 1 and ``top_db`` below it at 0."""
    mel = np.asarray(mel_db, dtype=np.float64)
    top = float(np.max(mel)) if mel.size else 0.0
    return np.clip((mel - (top - top_db)) / top_db, 0.0, 1.0)


def png_bytes(pixels: np.ndarray, size: tuple[int, int] | None = None) -> bytes:
    """RGB uint8 pixels [rows, cols, 3] → PNG, optionally resized to ``size`` (width, height)."""
    image = Image.fromarray(pixels, mode="RGB")
    if size is not None:
        image = image.resize(size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")  # optimize=True triples the time for ~10 % less
    return buffer.getvalue()


def spectrogram_png(mel_db: np.ndarray, top_db: float = 80.0, scale: int = 2) -> bytes:
    """A log-mel [n_mels, frames] as a PNG: low pitches at the bottom, louder is brighter."""
    level = spectrogram_levels(mel_db, top_db)
    pixels = MAGMA[(level[::-1] * 255).astype(np.uint8)]
    return png_bytes(pixels, (level.shape[1] * scale, level.shape[0] * scale))


def overlay_png(
    mel_db: np.ndarray, heat: np.ndarray, width: int = 1000, height: int = 320
) -> bytes:
    """A grey spectrogram with ``heat`` (0..1, same shape) laid over it in orange.

    Grey keeps the music's shape readable while the colour only marks where the model looked.
    """
    level = spectrogram_levels(mel_db)[::-1]
    heat = np.clip(np.asarray(heat, dtype=np.float64), 0.0, 1.0)[::-1]
    grey = (0.15 + 0.6 * level)[..., None] * np.array([255.0, 255.0, 255.0])
    orange = np.array([255.0, 140.0, 0.0])
    alpha = (0.85 * heat)[..., None]
    pixels = (grey * (1 - alpha) + orange * alpha).clip(0, 255).astype(np.uint8)
    return png_bytes(pixels, (width, height))
