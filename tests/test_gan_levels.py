"""Near-silent dropouts: generated clips quieter than every real segment of their genre."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from audio import LogMel
from gan.bundle import default_gan_dir, load_gan_bundle
from gan.data import PATCH_SPEC, load_clips
from gan.errors import GanError
from gan.floors import clip_guards
from gan.levels import (
    MAX_LEVEL_STEP_DB,
    MAX_REDRAWS,
    even_level_steps,
    genre_floors,
    mel_levels,
    patch_floors,
    quiet_shares,
    real_levels_and_dips,
)
from gan.metrics import real_segments
from gan.sample import (
    clip_samples,
    genre_noise,
    mels_from_noise,
    noise_walk,
    patches_for,
    patches_from_condition,
)


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
    levels, _ = real_levels_and_dips([loud, quiet, silent], LogMel(PATCH_SPEC))
    assert levels[0] > levels[1] > levels[2]
    assert levels[2] == -80.0  # silence sits at the floor the generator's range ends at
    # dB below the floor clamp to it, as the generator's tanh output does.
    assert mel_levels(torch.full((2, 128, 128), -200.0)).tolist() == [-80.0, -80.0]


def test_the_floor_of_a_genre_is_its_quietest_real_level() -> None:
    levels = np.array([-20.0, -10.0, -40.0, -35.0])
    assert genre_floors(levels, ["rock", "rock", "jazz", "jazz"]) == {"rock": -20.0, "jazz": -40.0}


def test_a_blend_may_be_as_quiet_as_the_quietest_genre_it_mixes() -> None:
    floors = torch.tensor([-10.0, -30.0, -20.0])
    assert patch_floors(floors, torch.tensor([2, 0])).tolist() == [-20.0, -10.0]
    weights = torch.tensor([[0.5, 0.0, 0.5], [0.0, 0.2, 0.8], [1.0, 0.0, 0.0]])
    assert patch_floors(floors, weights).tolist() == [-20.0, -30.0, -10.0]


def test_no_real_segment_lies_below_the_floors_taken_from_its_clips(gtzan_dir: Path) -> None:
    bundle = load_gan_bundle()
    clips = load_clips(gtzan_dir / "audio", limit_per_genre=2)
    guards = clip_guards(bundle, clips)
    assert guards is not None
    floors = guards["level_floors_db"]
    assert list(floors) == list(bundle.labels)
    segments = real_segments(clips, clip_samples(3.0, bundle), bundle.spec.sample_rate)
    levels, _ = real_levels_and_dips([s[2] for s in segments], LogMel(bundle.spec))
    for genre in bundle.labels:
        mine = levels[[s[0] == genre for s in segments]]
        assert mine.min() >= floors[genre] > mine.min() - 0.011  # the quietest sits on it
    assert clip_guards(bundle, clips[:4]) is None  # genres without a clip: no floors


def test_the_shipped_generator_draws_its_dropouts_again_given_floors(gtzan_dir: Path) -> None:
    bundle = load_gan_bundle()  # picked by `gan pick`, which stores its clips' floors
    floors = clip_guards(bundle, load_clips(gtzan_dir / "audio"))["level_floors_db"]
    assert bundle.level_floors.tolist() == pytest.approx([floors[g] for g in bundle.labels])
    bundle = replace(bundle, hole_limits=None)  # dropouts alone (holes: test_gan_holes)
    as_drawn = replace(bundle, level_floors=None)  # the generator's own patches
    pop = bundle.genre_index("pop")  # the genre with the most dropouts
    z = noise_walk(60, 1, bundle.config.z_dim, torch.Generator().manual_seed(3))
    before = mels_from_noise(as_drawn, [pop] * 60, z)
    after = mels_from_noise(bundle, [pop] * 60, z)
    quiet = mel_levels(before) < floors["pop"]
    assert quiet.sum() >= 5  # this generator does drop out (about two in five of its pop patches)
    assert (mel_levels(after) < floors["pop"]).sum() <= 1  # MAX_REDRAWS redraws leave very few
    kept = ~torch.from_numpy(quiet)
    assert torch.equal(after[kept], before[kept])  # patches with sound stay as they were
    assert torch.equal(after, mels_from_noise(bundle, [pop] * 60, z))  # redrawn the same way


def test_floors_that_do_not_fit_the_generator_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "gan"
    shutil.copytree(default_gan_dir(), folder)
    meta = json.loads((folder / "gan.json").read_text())
    floors = {genre: -30.0 for genre in meta["labels"]}
    for bad in ({**floors, "polka": -20.0}, {**floors, "jazz": "quiet"}, [-20.0]):
        meta["sampling"]["level_floors_db"] = bad
        (folder / "gan.json").write_text(json.dumps(meta))
        with pytest.raises(GanError, match="one number \\(dB\\) per genre"):
            load_gan_bundle(folder)
    meta["sampling"]["level_floors_db"] = floors
    (folder / "gan.json").write_text(json.dumps(meta))
    assert load_gan_bundle(folder).level_floors.tolist() == [-30.0] * len(floors)


def test_the_tool_gives_an_older_bundle_its_floors(tmp_path: Path, gtzan_dir: Path) -> None:
    folder = tmp_path / "gan-cgan"
    shutil.copytree(default_gan_dir(), folder)
    meta = json.loads((folder / "gan.json").read_text())
    del meta["sampling"]["level_floors_db"]  # as picked before pick stored floors
    meta["sampling"].pop("hole_limits_db", None)  # ... and its hole limits
    (folder / "gan.json").write_text(json.dumps(meta))
    assert load_gan_bundle(folder).level_floors is None
    assert load_gan_bundle(folder).hole_limits is None
    tool = Path(__file__).resolve().parents[1] / "tools" / "gan_level_floors.py"
    done = subprocess.run(
        [sys.executable, str(tool), "--bundle", str(folder), "--data", str(gtzan_dir / "audio")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    guards = json.loads(done.stdout)
    floors = guards["level_floors_db"]
    bundle = load_gan_bundle(folder)
    assert bundle.level_floors.tolist() == pytest.approx([floors[g] for g in bundle.labels])
    assert bundle.hole_limits.to_dict() == guards["hole_limits_db"]
    assert bundle.hole_limits.whole > 0 and bundle.hole_limits.band > 0
    assert f"drew them again (up to {MAX_REDRAWS} times)" in (folder / "MODEL_CARD.md").read_text()


def test_a_long_clips_patches_step_in_level_by_at_most_the_limit_and_keep_their_sound() -> None:
    torch.manual_seed(0)
    shapes = torch.randn(3, 6, 16, 16) * 3  # each patch's sound, its level aside
    offsets = torch.tensor([[-40.0, -10.0, -35.0, -12.0, -30.0, -31.0]]).repeat(3, 1)
    mel = shapes - shapes.mean(dim=(2, 3), keepdim=True) + offsets[:, :, None, None]
    evened = even_level_steps(mel, max_step_db=4.0)
    levels = evened.mean(dim=(2, 3))
    assert (levels[:, 1:] - levels[:, :-1]).abs().max() <= 4.0 + 1e-4
    assert torch.allclose(levels[:, 0], offsets[:, 0], atol=1e-4)  # the first stays
    centred = evened - evened.mean(dim=(2, 3), keepdim=True)
    assert torch.allclose(centred, mel - mel.mean(dim=(2, 3), keepdim=True), atol=1e-4)
    gentle = shapes[0] + torch.tensor([-20.0, -18.0, -21.0, -19.0, -22.0, -20.0])[:, None, None]
    assert torch.equal(even_level_steps(gentle[None], 4.0), gentle[None])  # within: untouched
    one = mel[:, :1]
    assert even_level_steps(one, 4.0) is one  # a 3-s clip is one patch: never touched


def test_a_long_generated_clip_has_no_level_cut_between_patches() -> None:
    """The shipped generator's 30-s clips step in level by at most the limit from patch to
    patch (drawn so, 10 % of its steps were cuts of over 10 dB)."""
    bundle = load_gan_bundle(None)
    patches = patches_for(30.0, bundle)
    steps = []
    for genre_id in range(len(bundle.labels)):
        z = noise_walk(4, patches, bundle.config.z_dim, genre_noise(5, genre_id))
        y = torch.tensor([genre_id]).repeat(4 * patches)
        mel = patches_from_condition(bundle, y, z)
        levels = mel.mean(dim=(2, 3))
        steps.append((levels[:, 1:] - levels[:, :-1]).abs())
    assert float(torch.cat(steps).max()) <= MAX_LEVEL_STEP_DB + 1e-3
