"""Near-silent dropouts: generated clips quieter than every real segment of their genre."""

from __future__ import annotations

import numpy as np
import torch

from audio import LogMel
from gan.data import PATCH_SPEC
from gan.levels import mel_levels, quiet_shares, real_levels


def test_a_clip_below_the_quietest_real_segment_of_its_genre_counts_as_near_silent() -> None:
    real = np.array([-20.0, -10.0, -40.0, -35.0])
    real_genres = ["rock", "rock", "jazz", "jazz"]
    levels = np.array([-25.0, -15.0, -5.0, -30.0, -45.0])
    genres = ["rock", "rock", "rock", "jazz", "jazz"]
    assert quiet_shares(levels, genres, real, real_genres) == {"rock": 0.333, "jazz": 0.5}
    # A genre with no real segment to compare with gets no figure rather than a made-up one.
    assert quiet_shares(levels, genres, real[:2], real_genres[:2]) == {"rock": 0.333}


def test_levels_of_real_audio_and_of_generated_patches_are_on_one_scale() -> None:
    rate, n = PATCH_SPEC.sample_rate, 65_024
    t = np.arange(n) / rate
    loud = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    quiet = (loud * 1e-3).astype(np.float32)  # 60 dB down
    silent = np.zeros(n, dtype=np.float32)
    levels = real_levels([loud, quiet, silent], LogMel(PATCH_SPEC))
    assert levels[0] > levels[1] > levels[2]
    assert levels[2] == -80.0  # silence sits at the floor the generator's range ends at
    # dB below the floor clamp to it, as the generator's tanh output does.
    assert mel_levels(torch.full((2, 128, 128), -200.0)).tolist() == [-80.0, -80.0]
