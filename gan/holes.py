"""Holes: a generated patch whose sound drops away for half a second in the middle.

The discriminators were trained on patches with a quarter of their frames blanked out (the
``cutout`` augmentation, gan.augment), and the generator learnt to draw such gaps itself: the
shipped one draws a dip of more than 15 dB below a patch's own median level, half a second
long, in 5.7 % of its patches, against 1.1 % of real ones (2026-11-27, 1 000 patches). Heard,
the music cuts out. A bundle stores the depth that only 1 % of its real training patches pass
(``sampling.hole_limit_db``), and sampling draws a deeper-holed patch again (gan.levels).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gan.data import denormalise, normalise

HOLE_FRAMES = 24  # ≈ 0.55 s: shorter dips are rests and breaks that real music is full of
# Real patches deeper than the limit: the rate at which a real-sounding patch would be drawn
# again. Chosen on the shared clips with 5-fold cross-validation grouped by clip: the limit
# moved 15.1-15.4 dB between folds and flagged 0.6-1.6 % of the held-out clips' patches.
REAL_PERCENTILE = 99.0


def mel_dips(mel_db: torch.Tensor) -> np.ndarray:
    """Patches [N, n_mels, F] in dB → each one's deepest dip (dB): how far the mean level of
    its quietest HOLE_FRAMES frames lies below its median frame level (0 for a shorter patch).
    Levels are clamped to the training range, as the generator's output is."""
    frames = denormalise(normalise(mel_db)).mean(dim=1)  # [N, F]
    if frames.shape[1] < HOLE_FRAMES:
        return np.zeros(frames.shape[0])
    quietest = frames.unfold(1, HOLE_FRAMES, 1).mean(-1).min(dim=1).values
    return (frames.median(dim=1).values - quietest).double().numpy()


def hole_limit(real_dips: np.ndarray) -> float | None:
    """The dip only (100 - REAL_PERCENTILE) % of real patches pass (dB, rounded up); None
    without real patches."""
    if real_dips.size == 0:
        return None
    return math.ceil(float(np.percentile(real_dips, REAL_PERCENTILE)) * 100) / 100


def holed_share(dips: np.ndarray, limit: float | None) -> float | None:
    """The share of patches whose dip is deeper than ``limit``."""
    if limit is None or dips.size == 0:
        return None
    return round(float(np.mean(dips > limit)), 4)
