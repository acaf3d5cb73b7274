"""One class per recording (``gan train --condition recording``, gan.recordings): the sampler,
growing a genre generator's class tables, the picker that turns genres into recordings, and a
whole run from a genre bundle to a recording bundle that plays genres."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from gan.bundle import load_gan_bundle
from gan.config import TrainConfig
from gan.critic import favourite_walks
from gan.data import ClipMel, PatchSampler
from gan.model import GanConfig, Generator
from gan.recordings import (
    RecordingPicker,
    class_genre_ids,
    genre_cross_entropy,
    genre_of,
    grown_tables,
    recording_genres,
)
from gan.sample import generate, patches_from_condition
from gan.state import load_checkpoint
from genre.labels import GTZAN_GENRES
from tests.test_gan_cli import TINY_MODEL, run_gan

TINY = GanConfig(z_dim=8, embed_dim=4, g_channels=(16, 8, 8, 4, 4), d_channels=(4, 4, 8, 8, 16))
GENRES = ("blues", "jazz", "rock")


def clips_of(genres: tuple[str, ...], per_genre: int) -> list[ClipMel]:
    """Clips whose every value names them: clip k of genre g is filled with (g·10 + k) / 100."""
    return [ClipMel(genre, k, Path(f"{genre}.{k:05d}.wav"),
                    torch.full((128, 140), (g * 10 + k) / 100))
            for g, genre in enumerate(genres) for k in range(per_genre)]  # fmt: skip


def test_the_sampler_has_a_class_per_recording_and_draws_each_from_its_own_clip() -> None:
    sampler = PatchSampler(clips_of(GENRES, 2), GENRES, frames=128, condition="recording")
    assert sampler.labels == ("blues/blues.00000.wav", "blues/blues.00001.wav",
                              "jazz/jazz.00000.wav", "jazz/jazz.00001.wav",
                              "rock/rock.00000.wav", "rock/rock.00001.wav")  # fmt: skip
    patches, classes = sampler.sample(60, torch.Generator().manual_seed(0))
    assert set(classes.tolist()) == set(range(6))
    for patch, index in zip(patches, classes.tolist(), strict=True):
        g, k = divmod(index, 2)
        assert torch.all(patch == (g * 10 + k) / 100)
    # the same clips by genre, as a genre run samples them
    by_genre = sampler.conditioned_by("genre")
    assert by_genre.labels == GENRES and by_genre.n_clips == sampler.n_clips == 6


def test_recording_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="condition must be one of genre, recording"):
        TrainConfig(condition="artist")
    with pytest.raises(ValueError, match="pair discriminator needs two recordings"):
        TrainConfig(condition="recording", pair_weight=1.0)
    with pytest.raises(ValueError, match="one class per recording"):
        TrainConfig(table_lr_scale=10.0)


def test_grown_tables_draw_exactly_what_the_genre_generator_drew() -> None:
    torch.manual_seed(0)
    by_genre = Generator(replace(TINY, n_classes=3)).eval()
    with torch.no_grad():  # rows that differ, as a trained generator's do
        for name, table in by_genre.named_parameters():
            if name.endswith("weight") and table.shape[0] == 3 and table.dim() == 2:
                table.normal_()
    recordings = ("blues/a", "blues/b", "jazz/a", "rock/a", "rock/b")
    grown = Generator(replace(TINY, n_classes=5)).eval()
    grown.load_state_dict(grown_tables(by_genre.state_dict(), GENRES, recordings))
    z = torch.randn(5, TINY.z_dim)
    with torch.no_grad():
        expected = by_genre(z, torch.tensor([0, 0, 1, 2, 2]))
        torch.testing.assert_close(grown(z, torch.arange(5)), expected)


def test_the_picker_keeps_to_the_genre_and_reaches_every_recording() -> None:
    recordings = ("blues/a", "blues/b", "jazz/a", "jazz/b", "jazz/c", "rock/a")
    genres_of = recording_genres(recordings, GENRES)
    picker = RecordingPicker.build(genres_of, z_dim=8)
    z = torch.randn(3000, 8, generator=torch.Generator().manual_seed(1))
    choices = picker.choices(z)
    assert torch.equal(genres_of[choices], torch.arange(3).expand(3000, -1))
    counts = torch.bincount(choices.flatten(), minlength=6)
    assert counts.min() > 3000 / 3 * 0.7  # each of a genre's recordings, about equally often
    assert torch.equal(picker.condition(torch.tensor([1, 1]), z[:2]), choices[:2, 1])
    # a blend: each genre's weight on the recording that genre picks
    blend = picker.condition(torch.tensor([[0.25, 0.0, 0.75]]), z[:1])
    assert blend.sum() == pytest.approx(1.0)
    assert blend[0, choices[0, 0]] == 0.25 and blend[0, choices[0, 2]] == 0.75
    with pytest.raises(Exception, match="genres the generator does not know: pop"):
        recording_genres(("pop/x",), GENRES)


def two_tones_per_genre(data: Path) -> Path:
    """Two 4-s tones per genre, a different pitch each: a tiny set of 20 recordings."""
    rate = 22050
    t = np.arange(4 * rate) / rate
    for i, genre in enumerate(GTZAN_GENRES):
        (data / genre).mkdir(parents=True)
        for k in range(2):
            tone = 0.2 * np.sin(2 * np.pi * 55 * (2 * i + k + 2) * t) * (1 + np.sin(2 * np.pi * t))
            sf.write(data / genre / f"{genre}.{k:05d}.wav", tone.astype(np.float32), rate)
    return data


def test_a_genre_bundle_grows_to_recordings_trains_and_plays_genres(tmp_path: Path) -> None:
    data = two_tones_per_genre(tmp_path / "clips")
    genre_bundle, run, bundle_dir = tmp_path / "genre", tmp_path / "run", tmp_path / "bundle"
    common = ["--data", str(data), "--batch", "4", "--quiet"]
    first = run_gan("train", "--run", str(tmp_path / "first"), "--steps", "2", "--export",
                    str(genre_bundle), *common, *TINY_MODEL)  # fmt: skip
    assert first.returncode == 0, first.stderr

    started = run_gan("train", "--run", str(run), "--start-from", str(genre_bundle),
                      "--condition", "recording", "--table-lr-scale", "10", "--steps", "4",
                      "--aux-g-level", "genre",
                      "--export", str(bundle_dir), *common)  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert "class tables grow to one row per recording" in started.stderr
    state = load_checkpoint(run / "checkpoint.pt")
    assert state.step == 4 and state.config.model.n_classes == 20
    assert [genre_of(label) for label in state.labels] == [g for g in GTZAN_GENRES for _ in "ab"]
    rates = [group["lr"] for group in state.opt_g.param_groups]
    assert rates == [pytest.approx(state.config.lr_g), pytest.approx(10 * state.config.lr_g)]
    assert json.loads((run / "run.json").read_text())["config"]["condition"] == "recording"

    bundle = load_gan_bundle(bundle_dir)
    assert bundle.labels == GTZAN_GENRES and bundle.picker is not None
    assert "grown to one class per recording" in bundle.model_card
    assert "--condition recording --table-lr-scale 10.0" in bundle.model_card  # to reproduce it
    assert len(bundle.class_labels) == 20
    samples = generate(bundle, ["jazz", "metal"], 2, seed=3, seconds=8.0)
    assert [s.genre for s in samples] == ["jazz", "jazz", "metal", "metal"]
    assert all(np.isfinite(s.audio).all() and s.duration_s > 7.5 for s in samples)

    # Every patch of a clip plays the recording the clip's first noise picked.
    plain = replace(bundle, picker=None, level_floors=None, hole_limits=None)
    z = torch.randn(6, 3, TINY.z_dim, generator=torch.Generator().manual_seed(5))
    genres = torch.tensor([4, 4, 4, 7, 7, 7])
    picked = bundle.picker.choices(z[:, 0])[torch.arange(6), genres]
    with torch.inference_mode():
        played = patches_from_condition(replace(plain, picker=bundle.picker),
                                        genres.repeat_interleave(3), z)  # fmt: skip
        by_first = patches_from_condition(plain, picked.repeat_interleave(3), z)
        by_patch = bundle.picker.choices(z.reshape(18, -1))[
            torch.arange(18), genres.repeat_interleave(3)
        ]
    torch.testing.assert_close(played, by_first)
    assert not torch.equal(by_patch, picked.repeat_interleave(3))  # the test could tell

    # A critic judges each candidate walk under the recording the walk will play.
    critic_dir = tmp_path / "critic"
    exported = run_gan("export", "--run", str(run), "--out", str(critic_dir), "--data", str(data),
                       "--critic", "3")  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    judged = load_gan_bundle(critic_dir)
    assert judged.critic is not None and judged.picker is not None
    walks = torch.randn(2, 3, 2, TINY.z_dim, generator=torch.Generator().manual_seed(6))
    with torch.inference_mode():
        kept = favourite_walks(judged, [1, 8], walks)
        for clip, genre in enumerate([1, 8]):
            recording = judged.picker.choices(walks[clip, :, 0])[:, genre].repeat_interleave(2)
            flat = walks[clip].reshape(6, -1) * judged.truncation
            scores = judged.critic(judged.generator(flat, recording), recording).reshape(3, 2)
            assert torch.equal(kept[clip], walks[clip, scores.mean(1).argmax()])

    # It resumes as any run does; asked without the option, it keeps one class per recording.
    resumed = run_gan("train", "--run", str(run), "--steps", "5", *common, *TINY_MODEL)
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(run / "checkpoint.pt").config.model.n_classes == 20


def test_the_condition_option_is_checked_before_any_work(tmp_path: Path) -> None:
    result = run_gan("train", "--run", str(tmp_path / "r"), "--condition", "artist")
    assert result.returncode == 2
    assert "invalid choice: 'artist'" in result.stderr
    both = run_gan("train", "--run", str(tmp_path / "r"), "--table-lr-scale", "5")
    assert both.returncode == 2 and "one class per recording" in both.stderr


def test_the_genre_level_ac_term_sums_each_genres_recordings() -> None:
    logits = torch.tensor([[2.0, 0.0, 1.0, -1.0], [0.5, 0.5, 3.0, 0.0]])
    class_genres = torch.tensor([0, 0, 1, 1])  # two recordings of each of two genres
    classes = torch.tensor([1, 3])
    probs = logits.softmax(dim=1)
    by_hand = -(probs[0, :2].sum().log() + probs[1, 2:].sum().log()) / 2
    loss = genre_cross_entropy(logits, classes, class_genres)
    torch.testing.assert_close(loss, by_hand)
    # with a class per genre it is the ordinary cross-entropy
    plain = torch.nn.functional.cross_entropy(logits, classes)
    torch.testing.assert_close(genre_cross_entropy(logits, classes, torch.arange(4)), plain)
    assert torch.equal(class_genre_ids(["jazz/b", "jazz/a", "blues/c"]), torch.tensor([0, 0, 1]))
    with pytest.raises(ValueError, match="AC-GAN level must be one of class, genre"):
        TrainConfig(aux_g_level="artist")
