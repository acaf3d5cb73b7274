"""Live listening's ring buffer, pacer and listener, with WebRTC-like frames (no browser)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from audio import load_audio
from genre.classifier import Classifier
from genre.errors import GenreError
from genre.live import LiveListener, explain_recent
from genre.live_audio import GAP_S, AnalysisPacer, AudioRing
from genre.paths import default_bundle_dir

RATE = 48000
FRAME = 960  # 20 ms, as browsers send


def sweep(seconds: float, rate: int = RATE) -> np.ndarray:
    """A rising tone: every stretch of it is different, so a misplaced sample shows."""
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * (200 + 300 * t) * t)).astype(np.float32)


def frames(signal: np.ndarray, channels: int, size: int = FRAME):
    """Interleaved int16 frames [1, size * channels], as av.AudioFrame.to_ndarray() gives."""
    pcm = np.round(signal * 32767).astype(np.int16)
    for start in range(0, len(pcm), size):
        chunk = pcm[start : start + size]
        yield start, np.repeat(chunk, channels).reshape(1, -1)


@pytest.mark.parametrize("channels", [1, 2])
def test_the_latest_window_is_the_last_seconds_sent(channels: int) -> None:
    ring = AudioRing(seconds=4.0)
    signal = sweep(6.0)
    for start, frame in frames(signal, channels):
        ring.append(frame, RATE, channels, at=start / RATE)
    assert ring.held_s == pytest.approx(4.0)
    window = ring.latest(3.0, RATE)
    assert window is not None and len(window) == 3 * RATE
    np.testing.assert_allclose(window, signal[-3 * RATE :], atol=1 / 32767)
    resampled = ring.latest(3.0, 16000)  # the model's rate
    assert resampled is not None and len(resampled) == 3 * 16000
    assert ring.latest(5.0, RATE) is None  # more than the ring holds


def test_stereo_is_mixed_to_mono() -> None:
    ring = AudioRing(seconds=1.0)
    left, right = np.full(FRAME, 0.5, np.float32), np.full(FRAME, -0.25, np.float32)
    ring.append(np.stack([left, right], axis=1).reshape(-1), RATE, 2)
    window = ring.latest(FRAME / RATE, RATE)
    assert window is not None
    np.testing.assert_allclose(window, 0.125)


def test_jittered_frame_sizes_and_times_keep_the_sound_intact() -> None:
    rng = np.random.default_rng(3)
    ring = AudioRing(seconds=5.0)
    signal = sweep(4.0)
    start = 0
    while start < len(signal):
        size = int(rng.integers(200, 2000))
        chunk = signal[start : start + size]
        jitter = float(rng.uniform(-0.03, 0.03))  # arrival times wobble, within GAP_S
        ring.append(chunk, RATE, 1, at=start / RATE + jitter)
        start += size
    window = ring.latest(4.0, RATE)
    assert window is not None
    np.testing.assert_array_equal(window, signal)


def test_a_gap_starts_the_sound_afresh() -> None:
    ring = AudioRing(seconds=10.0)
    before, after = sweep(3.0), sweep(1.0)[::-1].copy()
    ring.append(before, RATE, 1, at=0.0)
    assert ring.held_s == pytest.approx(3.0)
    ring.append(after, RATE, 1, at=3.0 + GAP_S + 0.5)  # the stream paused
    assert ring.held_s == pytest.approx(1.0)
    assert ring.latest(2.0, RATE) is None  # no window joins the two stretches
    np.testing.assert_array_equal(ring.latest(1.0, RATE), after)


def test_a_short_dropout_under_load_keeps_the_sound_held() -> None:
    ring = AudioRing(seconds=10.0)
    ring.append(sweep(3.0), RATE, 1, at=0.0)
    ring.append(sweep(1.0), RATE, 1, at=3.6)  # 0.6 s of frames lost (a busy machine)
    assert ring.held_s == pytest.approx(4.0)  # joined, not restarted


def test_a_new_sample_rate_starts_afresh_and_clear_drops_everything() -> None:
    ring = AudioRing(seconds=2.0)
    ring.append(sweep(1.0), RATE, 1)
    ring.append(sweep(1.0, 44100), 44100, 1)
    assert ring.held_s == pytest.approx(1.0)
    assert ring.received == RATE + 44100  # counts all sound that arrived, for the pacer
    ring.clear()
    assert ring.held_s == 0 and ring.received == 0 and ring.latest(0.5, RATE) is None


def test_bad_frames_are_refused_clearly() -> None:
    ring = AudioRing()
    with pytest.raises(GenreError, match="do not split in 2"):
        ring.append(np.zeros(3, np.int16), RATE, 2)
    with pytest.raises(GenreError, match="Bad audio frame: 0 Hz"):
        ring.append(np.zeros(4, np.int16), 0, 1)
    with pytest.raises(GenreError, match="positive length"):
        AudioRing(seconds=0)


def test_pacer_runs_about_once_a_second_and_only_on_new_sound() -> None:
    pacer = AnalysisPacer(interval_s=1.0, max_busy=0.5)
    received, started = 0, []
    for tick in range(100):  # the analyser's loop polls every 50 ms for 5 s
        now = tick * 0.05
        received += 800  # 50 ms of 16-kHz sound arrived
        if pacer.due(now, received):
            started.append(now)
            pacer.spent(0.03)
    assert started == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])
    assert pacer.due(10.0, received)  # the newest sound, once
    assert not pacer.due(20.0, received)  # nothing new arrived since: nothing to analyse


def test_pacer_skips_rather_than_queues_when_analysis_is_slow() -> None:
    pacer = AnalysisPacer(interval_s=1.0, max_busy=0.5)
    started, now, received = [], 0.0, 0
    while now < 20.0:
        received += 1
        if pacer.due(now, received):
            started.append(now)
            pacer.spent(0.9)  # each analysis takes 0.9 s: more than half of a second
            now += 0.9
        now += 0.1
    gaps = np.diff(started)
    assert gaps.min() >= 1.8 - 1e-9  # 0.9 s per analysis at most half the time
    assert len(started) == pytest.approx(20.0 / 1.9, abs=1.5)  # never more: nothing queues up


def test_listener_names_the_genre_of_real_music_fed_as_frames(gtzan_dir: Path) -> None:
    classifier = Classifier(default_bundle_dir())
    audio = load_audio(gtzan_dir / "audio/metal/metal.00002.ogg", sample_rate=RATE)
    music = audio.samples[: 5 * RATE]
    listener = LiveListener(classifier)
    for start, frame in frames(music, channels=2):
        listener.add_frame(frame, RATE, 2, at=start / RATE)
    assert listener.snapshot().heading is None  # nothing analysed before start
    listener.start()
    try:
        for _ in range(600):  # a bound, not a timing: a loaded machine may take a while
            snapshot = listener.snapshot()
            if snapshot.heading is not None:
                break
            time.sleep(0.1)
    finally:
        listener.stop()
    assert snapshot.listening and snapshot.is_music
    assert snapshot.genre in classifier.labels
    assert snapshot.heading
    assert sum(snapshot.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert len(snapshot.tags) == 5
    assert len(snapshot.history) == 1 and snapshot.history[0][1] == snapshot.genre
    assert snapshot.analysis_ms > 0
    after = listener.snapshot()  # stopped: nothing kept
    assert not after.listening and after.heading is None
    assert listener.ring.held_s == 0


def test_listener_ends_and_forgets_when_the_frames_stop() -> None:
    listener = LiveListener(Classifier(default_bundle_dir()), idle_stop_s=0.3)
    listener.add_frame(np.zeros(FRAME, np.int16), RATE, 1)
    listener.start()
    assert listener.running
    for _ in range(200):  # a bound, not a timing
        if not listener.running:
            break
        time.sleep(0.05)
    assert not listener.running
    assert listener.ring.held_s == 0


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("sent_s", [4.0, 13.0])  # shorter and longer than the 10-s snapshot
def test_recent_audio_is_a_copy_of_up_to_the_last_ten_seconds(channels: int, sent_s: float) -> None:
    listener = LiveListener(Classifier(default_bundle_dir()))
    model_rate = listener.classifier.bundle.sample_rate
    assert listener.recent_audio() is None  # nothing heard yet
    signal = sweep(sent_s)
    for start, frame in frames(signal, channels):
        listener.add_frame(frame, RATE, channels, at=start / RATE)
    recent = listener.recent_audio(10.0)
    assert recent is not None
    samples, rate = recent
    kept_s = min(sent_s, 10.0)
    assert rate == model_rate and samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) == round(kept_s * model_rate)
    # the same sound as the last seconds sent, at the model's rate
    expected = listener.ring.latest(kept_s, model_rate)
    np.testing.assert_array_equal(samples, expected)
    at_input_rate = listener.ring.recent(10.0, RATE)
    np.testing.assert_allclose(at_input_rate, signal[-round(kept_s * RATE) :], atol=1 / 32767)
    samples[:] = 0  # a copy: the ring's sound is untouched
    np.testing.assert_array_equal(listener.recent_audio(10.0)[0], expected)
    listener.add_frame(np.zeros((1, FRAME * channels), np.int16), RATE, channels)
    assert listener.recent_audio(10.0) is not None  # frames keep arriving; the copy stays valid
    listener.stop()
    assert listener.recent_audio() is None  # STOP drops the sound


def test_a_live_snapshot_of_music_is_classified_and_explained(gtzan_dir: Path) -> None:
    classifier = Classifier(default_bundle_dir())
    audio = load_audio(gtzan_dir / "audio/metal/metal.00002.ogg", sample_rate=RATE)
    listener = LiveListener(classifier)
    for start, frame in frames(audio.samples[: 12 * RATE], channels=2):
        listener.add_frame(frame, RATE, 2, at=start / RATE)
    recent = listener.recent_audio()
    assert recent is not None
    why = explain_recent(classifier, recent[0])
    assert why.seconds == pytest.approx(10.0)
    assert why.prediction.is_music
    assert why.explanation is not None
    assert why.explanation.genre == why.prediction.genre
    assert why.explanation.duration_s == pytest.approx(10.0)
    assert why.explanation.summary


def test_a_silent_snapshot_gets_no_explanation() -> None:
    classifier = Classifier(default_bundle_dir())
    why = explain_recent(classifier, np.zeros(10 * classifier.bundle.sample_rate, np.float32))
    assert not why.prediction.is_music
    assert why.explanation is None
