"""Holes: generated patches whose sound, or a band of it, drops away for half a second
(gan.holes)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from gan.bundle import default_gan_dir, load_gan_bundle
from gan.data import load_clips
from gan.errors import GanError
from gan.floors import clip_guards
from gan.holes import BAND_BINS, HOLE_FRAMES, Dips, HoleLimits, hole_limits, holed_share
from gan.sample import mels_from_noise, noise_walk


def test_a_half_second_gap_is_a_dip_as_deep_as_the_gap_and_a_short_rest_is_not() -> None:
    mel = torch.full((4, 128, 128), -20.0)
    mel[1, :, 50:80] = -50.0  # 30 frames (0.7 s), 30 dB down
    mel[2, :, 50:60] = -50.0  # 10 frames: a rest, shorter than a hole
    mel[3, :, 50:80] = -200.0  # below the training range: as deep as the range allows
    dips = Dips.of(mel)
    assert dips.whole[0] == 0.0 and dips.band[0] == 0.0
    assert dips.whole[1] == pytest.approx(30.0) and dips.band[1] == pytest.approx(30.0)
    assert dips.whole[2] == pytest.approx(30.0 * 10 / HOLE_FRAMES)  # averaged over a hole
    assert dips.whole[3] == pytest.approx(60.0)  # -20 dB down to the -80 dB floor
    short = Dips.of(torch.zeros(2, 128, HOLE_FRAMES - 1))
    assert short.whole.tolist() == [0.0, 0.0] and short.band.tolist() == [0.0, 0.0]


def test_a_gap_in_one_band_is_a_deep_band_dip_and_a_shallow_whole_one() -> None:
    mel = torch.full((2, 128, 128), -20.0)
    mel[1, 32 : 32 + BAND_BINS, 40:70] = -50.0  # one band, 30 frames, 30 dB down
    dips = Dips.of(mel)
    assert dips.band[1] == pytest.approx(30.0)
    assert dips.whole[1] < 5.0  # a band is an eighth of the patch: its mean level barely moves
    limits = HoleLimits(whole=15.0, band=20.0)
    assert limits.holed(dips).tolist() == [False, True]


def test_the_limits_let_one_real_patch_in_a_hundred_through_each() -> None:
    real = Dips(whole=np.arange(1000) / 10, band=np.arange(1000) / 5)  # 0 … 99.9, 0 … 199.8 dB
    limits = hole_limits(real)
    assert limits == HoleLimits(whole=pytest.approx(98.91), band=pytest.approx(197.81))
    # the same patches are deepest in both, so one in a hundred has a hole of either kind
    assert holed_share(real, limits) == 0.01
    assert hole_limits(Dips.join([])) is None and holed_share(real, None) is None


def test_the_shipped_generator_draws_its_holes_again(gtzan_dir: Path) -> None:
    bundle = load_gan_bundle()  # picked with its training clips' guards stored
    stored = clip_guards(bundle, load_clips(gtzan_dir / "audio"))["hole_limits_db"]
    assert bundle.hole_limits.to_dict() == pytest.approx(stored)
    holes_only = replace(bundle, level_floors=None)  # dropouts: test_gan_levels
    as_drawn = replace(holes_only, hole_limits=None)
    rock = bundle.genre_index("rock")  # the genre with the most holes
    z = noise_walk(100, 1, bundle.config.z_dim, torch.Generator().manual_seed(5))
    before = mels_from_noise(as_drawn, [rock] * 100, z)
    after = mels_from_noise(holes_only, [rock] * 100, z)
    holed = bundle.hole_limits.holed(Dips.of(before))
    assert holed.sum() >= 4  # this generator does draw holes (about one rock patch in ten)
    assert bundle.hole_limits.holed(Dips.of(after)).sum() <= 1  # the redraws leave very few
    kept = ~torch.from_numpy(holed)
    assert torch.equal(after[kept], before[kept])  # whole patches stay as they were
    assert torch.equal(after, mels_from_noise(holes_only, [rock] * 100, z))  # redrawn alike


@pytest.mark.parametrize(
    "bad",
    [
        {"whole": -3.0, "band": 20.0},
        {"whole": 15.0, "band": 0},
        {"whole": "deep", "band": 20.0},
        {"whole": True, "band": 20.0},
        {"whole": float("nan"), "band": 20.0},
        {"whole": 15.0},
        15.0,
    ],
)
def test_hole_limits_that_are_no_depths_are_refused(tmp_path: Path, bad: object) -> None:
    folder = tmp_path / "gan"
    shutil.copytree(default_gan_dir(), folder)
    meta = json.loads((folder / "gan.json").read_text())
    meta["sampling"]["hole_limits_db"] = bad
    (folder / "gan.json").write_text(json.dumps(meta))
    with pytest.raises(GanError, match=r"hole_limits_db in gan\.json: a number of dB above 0"):
        load_gan_bundle(folder)
