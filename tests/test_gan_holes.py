"""Holes: generated patches whose sound drops away for half a second (gan.holes)."""

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
from gan.holes import HOLE_FRAMES, hole_limit, holed_share, mel_dips
from gan.sample import mels_from_noise, noise_walk


def test_a_half_second_gap_is_a_dip_as_deep_as_the_gap_and_a_short_rest_is_not() -> None:
    mel = torch.full((4, 128, 128), -20.0)
    mel[1, :, 50:80] = -50.0  # 30 frames (0.7 s), 30 dB down
    mel[2, :, 50:60] = -50.0  # 10 frames: a rest, shorter than a hole
    mel[3, :, 50:80] = -200.0  # below the training range: as deep as the range allows
    dips = mel_dips(mel)
    assert dips[0] == 0.0
    assert dips[1] == pytest.approx(30.0)
    assert dips[2] == pytest.approx(30.0 * 10 / HOLE_FRAMES)  # averaged over a hole's length
    assert dips[3] == pytest.approx(60.0)  # -20 dB down to the -80 dB floor
    assert mel_dips(torch.zeros(2, 128, HOLE_FRAMES - 1)).tolist() == [0.0, 0.0]


def test_the_limit_lets_one_real_patch_in_a_hundred_through() -> None:
    real = np.arange(1000) / 10  # dips of 0.0 … 99.9 dB
    limit = hole_limit(real)
    assert limit == pytest.approx(98.91)  # the 99th percentile, rounded up
    assert holed_share(real, limit) == 0.01
    assert hole_limit(np.array([])) is None and holed_share(real, None) is None


def test_the_shipped_generator_draws_its_holes_again(gtzan_dir: Path) -> None:
    bundle = load_gan_bundle()  # picked with its training clips' guards stored
    limit = clip_guards(bundle, load_clips(gtzan_dir / "audio"))["hole_limit_db"]
    assert bundle.hole_limit_db == pytest.approx(limit)
    holes_only = replace(bundle, level_floors=None)  # dropouts: test_gan_levels
    as_drawn = replace(holes_only, hole_limit_db=None)
    rock = bundle.genre_index("rock")  # the genre with the most holes
    z = noise_walk(100, 1, bundle.config.z_dim, torch.Generator().manual_seed(5))
    before = mels_from_noise(as_drawn, [rock] * 100, z)
    after = mels_from_noise(holes_only, [rock] * 100, z)
    holed = mel_dips(before) > limit
    assert holed.sum() >= 4  # this generator does draw holes (about one rock patch in ten)
    assert (mel_dips(after) > limit).sum() <= 1  # the redraws leave very few
    kept = ~torch.from_numpy(holed)
    assert torch.equal(after[kept], before[kept])  # whole patches stay as they were
    assert torch.equal(after, mels_from_noise(holes_only, [rock] * 100, z))  # redrawn alike


@pytest.mark.parametrize("bad", [-3.0, 0, "deep", True, float("nan"), [15.0]])
def test_a_hole_limit_that_is_no_depth_is_refused(tmp_path: Path, bad: object) -> None:
    folder = tmp_path / "gan"
    shutil.copytree(default_gan_dir(), folder)
    meta = json.loads((folder / "gan.json").read_text())
    meta["sampling"]["hole_limit_db"] = bad
    (folder / "gan.json").write_text(json.dumps(meta))
    with pytest.raises(GanError, match=r"hole_limit_db in gan\.json: one number of dB above 0"):
        load_gan_bundle(folder)
