"""Does confidence mean something? Expected calibration error and a reliability diagram.

ECE (10 equal-width bins of the top probability): the track-weighted mean gap between a bin's
mean confidence and its accuracy. The diagram is drawn with Pillow (already installed with
Streamlit) so that no plotting library is needed to rebuild a model card.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

N_BINS = 10


@dataclass(frozen=True)
class Reliability:
    confidence: np.ndarray  # [bins] mean top probability (nan where empty)
    accuracy: np.ndarray  # [bins] share right (nan where empty)
    count: np.ndarray  # [bins] tracks
    ece: float


def reliability(probs: np.ndarray, truth: np.ndarray, n_bins: int = N_BINS) -> Reliability:
    probs, truth = np.asarray(probs, dtype=np.float64), np.asarray(truth)
    top = probs.max(axis=1)
    right = probs.argmax(axis=1) == truth
    bins = np.minimum((top * n_bins).astype(int), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        confidence = np.bincount(bins, weights=top, minlength=n_bins) / count
        accuracy = np.bincount(bins, weights=right, minlength=n_bins) / count
    used = count > 0
    ece = float(np.sum(count[used] * np.abs(confidence[used] - accuracy[used])) / len(top))
    return Reliability(confidence, accuracy, count, ece)


def expected_calibration_error(probs: np.ndarray, truth: np.ndarray) -> float:
    return reliability(probs, truth).ece


def draw_reliability(curves: dict[str, Reliability], path: Path, title: str) -> None:
    """A reliability diagram (accuracy against confidence per bin, one line per model) as PNG."""
    from PIL import Image, ImageDraw, ImageFont

    width, height, margin = 560, 540, 70
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    side = min(width, height) - 2 * margin

    def xy(x: float, y: float) -> tuple[float, float]:
        return margin + x * side, height - margin - y * side

    draw.rectangle([xy(0, 1), xy(1, 0)], outline="black")
    for tick in np.linspace(0, 1, 6):
        draw.line([xy(tick, 0), (xy(tick, 0)[0], xy(tick, 0)[1] + 5)], fill="black")
        draw.text((xy(tick, 0)[0] - 10, xy(tick, 0)[1] + 8), f"{tick:.1f}", fill="black", font=font)
        draw.line([xy(0, tick), (xy(0, tick)[0] - 5, xy(0, tick)[1])], fill="black")
        draw.text((xy(0, tick)[0] - 32, xy(0, tick)[1] - 6), f"{tick:.1f}", fill="black", font=font)
    draw.line([xy(0, 0), xy(1, 1)], fill=(170, 170, 170), width=1)
    draw.text((margin, 20), title, fill="black", font=font)
    draw.text((margin + side / 2 - 90, height - 30), "confidence (top probability)", "black", font)
    draw.text((8, margin - 30), "share right", fill="black", font=font)
    colours = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]
    for k, (name, curve) in enumerate(curves.items()):
        colour = colours[k % len(colours)]
        used = curve.count > 0
        pairs = zip(curve.confidence[used], curve.accuracy[used], strict=True)
        points = [xy(c, a) for c, a in pairs]
        if len(points) > 1:
            draw.line(points, fill=colour, width=3)
        for (px, py), n in zip(points, curve.count[used], strict=True):
            r = 3 + min(6, int(np.sqrt(n)))  # dot size grows with the tracks in the bin
            draw.ellipse([px - r, py - r, px + r, py + r], fill=colour)
        label = f"{name} (ECE {curve.ece:.3f})"
        draw.line([(margin + 10, margin + 15 + 18 * k), (margin + 35, margin + 15 + 18 * k)],
                  fill=colour, width=3)  # fmt: skip
        draw.text((margin + 42, margin + 9 + 18 * k), label, fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)
