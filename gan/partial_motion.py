"""Do a generator's partials move like real music's, or hold like a drone?

The fine frequency detail of a log-mel (the mel minus its blur over 3 mel bins, lower 64 mel
bins, where single partials are resolved) is where the partials of instruments and voices live.
In real music notes and chords change, so that detail decorrelates within a second or so; a
generator that learnt sharp partials that never change makes drones. The measure: the
correlation of that detail between frames t and t + lag, per clip or patch.
"""

from __future__ import annotations

import numpy as np
import torch

from gan.negatives import blur_mels

RESOLVED_MELS = 64  # the lower half: above it a mel bin spans several partials
MOTION_LAG = 16  # frames apart on the model card: about 0.37 s at 22 050 Hz, hop 512


def detail_correlations(mels: torch.Tensor, lag: int) -> np.ndarray:
    """Per patch of ``mels`` (``[n, mels, frames]``, dB), the correlation of its fine frequency
    detail between frames t and t + ``lag``; NaN for a patch without detail (silence has no
    partials to follow)."""
    detail = (mels - blur_mels(mels))[:, :RESOLVED_MELS].double()
    now, later = detail[..., :-lag].flatten(1), detail[..., lag:].flatten(1)
    now, later = now - now.mean(1, keepdim=True), later - later.mean(1, keepdim=True)
    norms = now.norm(dim=1) * later.norm(dim=1)
    products = (now * later).sum(1)
    return torch.where(norms > 0, products / norms.clamp_min(1e-12), torch.nan).numpy()


def mean_correlation(values: np.ndarray) -> float:
    """The mean over patches that have detail; 0 when none has (silence: nothing correlates)."""
    moving = values[~np.isnan(values)]
    return float(moving.mean()) if moving.size else 0.0


def detail_correlation(mels: torch.Tensor, lag: int) -> float:
    """Mean over patches of :func:`detail_correlations`."""
    return mean_correlation(detail_correlations(mels, lag))
