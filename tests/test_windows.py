"""genre.windows: the window grid, looping of short clips and the track probability, checked
on their edge cases and against the formulas each caller used to write out inline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from audio import load_audio
from genre.bundle import shipped_bundles
from genre.classifier import Classifier
from genre.fusion import TAG_GENRES, TagFusion
from genre.fusion_choice import HeldOut
from genre.labels import GTZAN_GENRES
from genre.musicnn import MSD_TAGS
from genre.paths import default_bundle_dir
from genre.training.musicnn_head import fit_temperature, head_track_probs
from genre.windows import loop_to_length, mean_probability, track_probabilities, window_starts


# -- the grid ---------------------------------------------------------------------------------
def test_a_track_no_longer_than_one_window_has_one_window() -> None:
    assert window_starts(1, 129, 64) == [0]
    assert window_starts(100, 129, 64) == [0]
    assert window_starts(129, 129, 64) == [0]


def test_the_grid_steps_by_the_hop_and_ends_at_the_track_end() -> None:
    assert window_starts(500, 100, 50) == [0, 50, 100, 150, 200, 250, 300, 350, 400]
    assert window_starts(1293, 129, 65)[-1] == 1293 - 129
    # non-overlapping windows (the musicnn bundle): back to back
    assert window_starts(187 * 3, 187, 187) == [0, 187, 374]


def test_a_short_tail_is_left_out_and_a_long_one_gets_a_last_window() -> None:
    # the grid ends 25 frames early: no more than half a hop, so no extra window
    assert window_starts(125, 100, 50) == [0]
    # 26 frames uncovered: one more window, ending at the track's end
    assert window_starts(126, 100, 50) == [0, 26]
    assert window_starts(187 * 3 + 93, 187, 187) == [0, 187, 374]
    assert window_starts(187 * 3 + 94, 187, 187) == [0, 187, 374, 468]


@pytest.mark.parametrize("window,hop", [(129, 65), (187, 187), (100, 1), (64, 200)])
def test_every_window_lies_inside_the_track(window: int, hop: int) -> None:
    for n in range(window, 6 * window):
        starts = window_starts(n, window, hop)
        assert starts == sorted(set(starts)) and starts[0] == 0
        assert starts[-1] + window <= n
        assert n - (starts[-1] + window) <= hop // 2  # at most half a hop left out


# -- looping ----------------------------------------------------------------------------------
@pytest.mark.parametrize("frames", [1, 2, 50, 63, 186])
def test_a_short_clip_is_looped_as_np_tile_and_tensor_repeat_did(frames: int) -> None:
    rng = np.random.default_rng(frames)
    spec = rng.standard_normal((96, frames)).astype(np.float32)
    repeats = -(-187 // frames)
    looped = loop_to_length(spec, 187, axis=1)
    assert np.array_equal(looped, np.tile(spec, (1, repeats))[:, :187])  # torch_loop.fit_length
    mel = torch.from_numpy(spec)
    assert torch.equal(loop_to_length(mel, 187, axis=1), mel.repeat(1, repeats)[:, :187])


def test_looping_keeps_long_clips_and_works_on_any_axis() -> None:
    spec = np.arange(12.0).reshape(3, 4)
    assert loop_to_length(spec, 4, axis=1) is spec
    assert loop_to_length(spec, 2, axis=1) is spec  # never cut
    assert loop_to_length(spec, 7, axis=0)[:, 0].tolist() == [0, 4, 8, 0, 4, 8, 0]
    assert loop_to_length(np.arange(3), 7).tolist() == [0, 1, 2, 0, 1, 2, 0]
    with pytest.raises(ValueError, match="empty"):
        loop_to_length(np.zeros((3, 0)), 5, axis=1)


# -- track probabilities ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_track_probabilities_equal_the_mean_of_each_tracks_windows(dtype: type) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        owner = rng.integers(0, 40, size=int(rng.integers(1, 600)))
        probs = rng.dirichlet(np.ones(10), size=len(owner)).astype(dtype)
        tracks = np.unique(owner)
        rng.shuffle(tracks)  # the caller's order is kept
        old = np.stack([probs[owner == t].mean(axis=0) for t in tracks])  # the loops' formula
        new = track_probabilities(probs, owner, tracks)
        assert new.dtype == old.dtype and np.array_equal(new, old)


def test_a_track_without_windows_gets_zeros_as_head_track_probs_did() -> None:
    probs = np.asarray([[0.2, 0.8], [0.6, 0.4], [1.0, 0.0]])
    owner = np.asarray([2, 0, 2])
    out = track_probabilities(probs, owner, [0, 1, 2])
    assert np.allclose(out, [[0.6, 0.4], [0.0, 0.0], [0.6, 0.4]])
    votes = track_probabilities(np.eye(2, dtype=np.int64)[[0, 1, 1]], [5, 5, 5], [5])
    assert votes.dtype == np.float64 and np.allclose(votes, [[1 / 3, 2 / 3]])
    assert track_probabilities(np.zeros((0, 3)), np.zeros(0, int), [0]).tolist() == [[0, 0, 0]]
    assert np.array_equal(mean_probability(probs), probs.mean(axis=0))


def test_the_musicnn_trainer_aggregates_as_before() -> None:
    """head_track_probs and fit_temperature summed windows with np.add.at / index_add."""
    rng = np.random.default_rng(1)
    n_tracks, n_classes = 30, 10
    track = np.repeat(np.arange(n_tracks), rng.integers(1, 12, size=n_tracks))
    logits = torch.from_numpy(rng.standard_normal((len(track), n_classes)) * 3)
    labels = rng.integers(0, n_classes, size=n_tracks)

    head = torch.nn.Identity()
    x = logits.float().numpy()
    probs = torch.softmax(torch.from_numpy(x) / 1.5, dim=1).double().numpy()
    old = np.zeros((n_tracks + 2, n_classes))  # two tracks without windows: zero rows
    np.add.at(old, track, probs)
    old /= np.maximum(np.bincount(track, minlength=n_tracks + 2), 1)[:, None]
    assert np.allclose(head_track_probs(head, x, track, n_tracks + 2, 1.5), old, atol=1e-12)

    index = torch.from_numpy(track)
    counts = torch.bincount(index, minlength=n_tracks).double().clamp(min=1)

    def old_nll(temp: float) -> float:
        p = torch.softmax(logits / temp, dim=1)
        per_track = torch.zeros(n_tracks, n_classes, dtype=torch.float64).index_add_(0, index, p)
        per_track = per_track / counts[:, None]
        return float(-torch.log(per_track[torch.arange(n_tracks), labels] + 1e-12).mean())

    grid = np.exp(np.linspace(np.log(0.2), np.log(5.0), 161))
    scores = [old_nll(t) for t in grid]
    best, before, after = fit_temperature(logits, track, labels, n_tracks)
    assert best == float(grid[int(np.argmin(scores))])
    assert before == pytest.approx(old_nll(1.0), abs=1e-12)
    assert after == pytest.approx(min(scores), abs=1e-12)

    # the tag fusion's held-out tracks (genre.fusion_fit) were averaged the same way
    fusion = TagFusion(GTZAN_GENRES, tuple(MSD_TAGS), 1.0, 0.1, TAG_GENRES)
    log_probs = np.log(torch.softmax(logits, dim=1).numpy())
    tags = rng.uniform(0, 1, (len(track), len(MSD_TAGS)))
    held = HeldOut(log_probs, tags, track, labels, np.zeros(n_tracks, dtype=int))
    windows = fusion.fuse(log_probs, tags)
    old = np.zeros((n_tracks, n_classes))
    np.add.at(old, track, windows)
    old /= np.maximum(np.bincount(track, minlength=n_tracks), 1)[:, None]
    assert np.allclose(held.track_probs(fusion)[0], old, atol=1e-12)


# -- the Classifier, on real clips ------------------------------------------------------------
def _old_window_starts(n_frames: int, window: int, hop: int) -> list[int]:
    """The grid as genre.classifier wrote it before genre.windows."""
    if n_frames <= window:
        return [0]
    starts = list(range(0, n_frames - window + 1, hop))
    if n_frames - window - starts[-1] > hop // 2:
        starts.append(n_frames - window)
    return starts


@pytest.fixture(scope="module")
def excerpts() -> dict[str, tuple[Path, float, float]]:
    """(clip, start s, seconds): whole clips, and short excerpts that have to be looped."""
    from genre.paths import shared_gtzan_dir

    audio = shared_gtzan_dir() / "audio"
    return {
        "blues": (audio / "blues" / "blues.00003.ogg", 0.0, 30.0),
        "jazz": (audio / "jazz" / "jazz.00004.ogg", 0.0, 30.0),
        "blues-1s": (audio / "blues" / "blues.00003.ogg", 0.0, 1.0),
        "jazz-2.5s": (audio / "jazz" / "jazz.00004.ogg", 5.0, 2.5),
    }


@pytest.mark.parametrize("bundle", shipped_bundles(), ids=lambda p: p.name)
def test_the_classifier_cuts_windows_as_before(
    bundle: Path, excerpts: dict[str, tuple[Path, float, float]]
) -> None:
    classifier = Classifier(bundle, detector=False)
    window, hop = classifier.bundle.window_frames, classifier.bundle.hop_frames
    rate = classifier.bundle.sample_rate
    for path, start, seconds in excerpts.values():
        samples = load_audio(path, sample_rate=rate).samples
        samples = samples[int(start * rate) : int((start + seconds) * rate)]
        with torch.inference_mode():
            mel = classifier.frontend(torch.from_numpy(samples))
            batch, looped, starts = classifier.embed_windows(mel)
        old = mel
        if old.shape[1] < window:  # the Classifier's inline loop
            old = old.repeat(1, -(-window // old.shape[1]))[:, :window]
        old_starts = _old_window_starts(old.shape[1], window, hop)
        assert starts == old_starts
        assert torch.equal(looped, old)
        assert torch.equal(batch, torch.stack([old[:, s : s + window] for s in old_starts]))


def test_the_default_classifier_scores_a_track_as_the_mean_of_its_music_windows(
    excerpts: dict[str, tuple[Path, float, float]],
) -> None:
    classifier = Classifier(default_bundle_dir())
    rate = classifier.bundle.sample_rate
    for path, start, seconds in excerpts.values():
        samples = load_audio(path, sample_rate=rate).samples
        prediction = classifier.predict_samples(
            samples[int(start * rate) : int((start + seconds) * rate)]
        )
        music = prediction.window_music_scores >= classifier.detector.window_threshold
        if not prediction.is_music or not music.any():
            music[:] = True
        old = prediction.window_probs[music].mean(axis=0)  # the inline formula it replaced
        assert np.allclose(prediction.probs, old, atol=1e-6, rtol=0)
