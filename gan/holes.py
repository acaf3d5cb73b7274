"""Holes: a generated patch whose sound, or one band of it, drops away for half a second.

The discriminators were trained on patches with a quarter of their frames and an eighth of their
mel bands blanked out (the ``cutout`` augmentation, gan.augment), and the generator learnt to
draw such gaps itself. The shipped one drew a dip of the whole patch of more than 15 dB below its
median level, half a second long, in 5.7 % of its patches, against 1.1 % of real ones; and, with
those drawn again, a dip of one band deeper than all but 1 % of real patches have in 4.5 % of them
(2026-11-27, 1 000 patches). Heard, the music cuts out, or an instrument does. A bundle stores the
depths that only 1 % of its real training segments pass (``sampling.hole_limits_db``), and
sampling draws a patch with a deeper hole again (gan.levels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from gan.data import denormalise, normalise

HOLE_FRAMES = 24  # ≈ 0.55 s: shorter dips are rests and breaks that real music is full of
BAND_BINS = 16  # the cutout's band (an eighth of the 128 mel bins)
# Real patches deeper than a limit: the rate at which a real-sounding patch would be drawn again.
# Chosen on the shared clips with 5-fold cross-validation grouped by clip: the whole-patch limit
# moved 15.1-15.4 dB between folds and flagged 0.6-1.6 % of the held-out clips' patches.
REAL_PERCENTILE = 99.0


def _deepest_dips(levels: torch.Tensor) -> np.ndarray:
    """Frame levels [N, regions, F] → per patch, the deepest dip of any region (dB): how far
    the mean of its quietest HOLE_FRAMES frames lies below its median frame level."""
    if levels.shape[-1] < HOLE_FRAMES:
        return np.zeros(levels.shape[0])
    quietest = levels.unfold(-1, HOLE_FRAMES, 1).mean(-1).min(dim=-1).values
    return (levels.median(dim=-1).values - quietest).max(dim=1).values.double().numpy()


@dataclass(frozen=True)
class Dips:
    """Each patch's deepest dip (dB) of its whole level and of any one BAND_BINS-bin band."""

    whole: np.ndarray
    band: np.ndarray

    @classmethod
    def of(cls, mel_db: torch.Tensor) -> Dips:
        """Patches [N, n_mels, F] in dB, clamped to the training range as the generator's
        output is (0 for a patch shorter than a hole)."""
        mel = denormalise(normalise(mel_db))
        n, bins, frames = mel.shape
        bands = mel[:, : bins - bins % BAND_BINS].reshape(n, -1, BAND_BINS, frames).mean(2)
        return cls(_deepest_dips(mel.mean(dim=1, keepdim=True)), _deepest_dips(bands))

    @classmethod
    def join(cls, parts: list[Dips]) -> Dips:
        empty = np.zeros(0)
        return cls(
            np.concatenate([empty, *(p.whole for p in parts)]),
            np.concatenate([empty, *(p.band for p in parts)]),
        )


@dataclass(frozen=True)
class HoleLimits:
    """A hole is a dip deeper than ``whole`` dB of the patch's level or ``band`` dB of a band's."""

    whole: float
    band: float

    def holed(self, dips: Dips) -> np.ndarray:
        return (dips.whole > self.whole) | (dips.band > self.band)

    def to_dict(self) -> dict[str, float]:
        return {"whole": self.whole, "band": self.band}


def _percentile_up(values: np.ndarray) -> float:
    return math.ceil(float(np.percentile(values, REAL_PERCENTILE)) * 100) / 100


def hole_limits(real: Dips) -> HoleLimits | None:
    """The dips only (100 - REAL_PERCENTILE) % of real patches pass, each kind on its own (dB,
    rounded up); None without real patches."""
    if real.whole.size == 0:
        return None
    return HoleLimits(_percentile_up(real.whole), _percentile_up(real.band))


def holed_share(dips: Dips, limits: HoleLimits | None) -> float | None:
    """The share of patches with a hole of either kind."""
    if limits is None or dips.whole.size == 0:
        return None
    return round(float(np.mean(limits.holed(dips))), 4)
