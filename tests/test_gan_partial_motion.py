"""gan.partial_motion: whether partials change like real notes or hold like a drone, on
synthetic patches whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan.partial_motion import detail_correlation, detail_correlations


def notes(frames_each: int | None) -> torch.Tensor:
    """Patches of a few sharp partials over faint noise: a new note at other mel bins every
    ``frames_each`` frames (None: one note all through, a drone)."""
    rng = torch.Generator().manual_seed(0)
    mels = torch.rand(4, 128, 128, generator=rng) - 60.0
    length = frames_each or 128
    for patch in mels:
        for start in range(0, 128, length):
            partials = torch.randint(2, 62, (4,), generator=rng)
            patch[partials, start : start + length] += 20.0
    return mels


def test_a_drone_s_detail_holds_and_changing_notes_lose_it() -> None:
    drone, tune = notes(None), notes(8)
    assert detail_correlation(drone, 16) > 0.95
    assert detail_correlation(tune, 1) > 0.7  # within a note the partials hold
    assert abs(detail_correlation(tune, 16)) < 0.3  # two notes later they sit elsewhere
    # silence has no partials: it counts as no correlation rather than a division by zero
    assert detail_correlation(torch.full((2, 128, 128), -80.0), 4) == 0.0


def test_each_patch_gets_its_own_figure_and_silence_is_left_out_of_the_mean() -> None:
    drone, tune, silence = notes(None)[:1], notes(8)[:1], torch.full((1, 128, 128), -80.0)
    each = detail_correlations(torch.cat([drone, tune, silence]), 16)
    assert each.shape == (3,) and np.isnan(each[2])
    assert each[0] > 0.95 and abs(each[1]) < 0.3
    # the silent patch does not drag the mean towards 0
    both = detail_correlation(torch.cat([drone, tune, silence]), 16)
    assert both == pytest.approx((each[0] + each[1]) / 2)
