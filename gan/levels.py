"""How loud generated patches are next to real ones: near-silent dropouts.

A generator can learn to answer some noises with near silence (the mode-seeking term rewarded
it: two patches of one genre differ most when one of them is silent). No real segment of a genre
is that quiet, so the share of generated clips below the quietest real one counts them.
"""

from __future__ import annotations

import numpy as np
import torch

from audio import LogMel
from gan.data import denormalise, normalise


def mel_levels(mel_db: torch.Tensor) -> np.ndarray:
    """Each patch's mean log-mel level in dB, clamped to the training range as the generator's
    output is (a patch of silence and a patch of -200 dB are the same to it)."""
    return denormalise(normalise(mel_db)).flatten(1).mean(1).double().numpy()


def real_levels(waves: list[np.ndarray], frontend: LogMel) -> np.ndarray:
    """:func:`mel_levels` of real audio segments of one length."""
    levels = []
    for start in range(0, len(waves), 16):
        batch = torch.from_numpy(np.stack(waves[start : start + 16]))
        with torch.inference_mode():
            levels.append(mel_levels(frontend(batch)))
    return np.concatenate(levels)


def quiet_shares(
    levels: np.ndarray, genres: list[str], real: np.ndarray, real_genres: list[str]
) -> dict[str, float]:
    """Per genre, the share of generated clips quieter than every real segment of that genre:
    near-silent dropouts no real music of the genre has (the mode-seeking term bred them)."""
    out = {}
    for genre in dict.fromkeys(genres):
        floor = min((r for r, g in zip(real, real_genres, strict=True) if g == genre), default=None)
        if floor is not None:
            mine = levels[[g == genre for g in genres]]
            out[genre] = round(float(np.mean(mine < floor)), 3)
    return out
