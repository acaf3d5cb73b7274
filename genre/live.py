"""Live genre listening: frames in from a WebRTC callback, a genre snapshot out for the page.

``LiveListener.add_frame`` runs in streamlit-webrtc's audio thread and only appends to the ring
buffer. A background analyser thread classifies the newest window when the pacer allows and
publishes a :class:`LiveSnapshot` under a lock; the page's script thread only calls
``snapshot()``. Nothing touches Streamlit, and nothing is stored: the sound lives in the ring
buffer in memory and ``stop()`` drops it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from genre.classifier import Classifier, Prediction
from genre.explain import Explanation, explain
from genre.live_audio import RING_S, AnalysisPacer, AudioRing

SMOOTH_S = 3.0  # time constant of the genre bars' smoothing
HISTORY_S = 60.0  # the genre-over-time strip covers this much
POLL_S = 0.05  # how often the analyser looks for new sound
TOP_TAGS = 5
# While connected, WebRTC sends frames even in silence; none for this long means the browser
# went away without STOP: the analyser ends and the sound is dropped.
IDLE_STOP_S = 30.0
SNAPSHOT_S = RING_S  # a "why?" snapshot explains all the recent sound the ring holds


@dataclass(frozen=True)
class LiveSnapshot:
    listening: bool = False
    heading: str | None = None  # the current verdict in words, None before the first analysis
    genre: str | None = None  # None while it is not music
    is_music: bool = True
    probabilities: dict[str, float] = field(default_factory=dict)  # smoothed
    tags: tuple[str, ...] = ()
    history: tuple[tuple[float, str | None], ...] = ()  # (seconds ago, genre or None)
    analyses_per_s: float = 0.0
    analysis_ms: float = 0.0
    sound_age_s: float = 0.0  # how old the newest analysed sound was when shown


class LiveListener:
    def __init__(
        self, classifier: Classifier, clock=time.monotonic, idle_stop_s: float = IDLE_STOP_S
    ) -> None:
        self.classifier = classifier
        self.idle_stop_s = idle_stop_s
        self.ring = AudioRing()
        self.pacer = AnalysisPacer()
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._smoothed: np.ndarray | None = None
        self._smoothed_at = 0.0
        self._history: deque[tuple[float, str | None]] = deque()
        self._analysed_at: deque[float] = deque(maxlen=10)
        self._state = LiveSnapshot()

    def add_frame(
        self, samples: np.ndarray, sample_rate: int, channels: int, at: float | None = None
    ) -> None:
        """From the audio callback: cheap, never blocks on an analysis."""
        self.ring.append(samples, sample_rate, channels, at)

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="genre-live", daemon=True)
        self._thread.start()
        with self._lock:
            self._state = LiveSnapshot(listening=True)

    def stop(self) -> None:
        """Stop analysing and drop the sound held in memory."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.ring.clear()
        with self._lock:
            self._smoothed = None
            self._history.clear()
            self._state = LiveSnapshot()

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            return self._state

    def recent_audio(self, seconds: float = SNAPSHOT_S) -> tuple[np.ndarray, int] | None:
        """A copy of up to the last ``seconds`` of sound, mono float32 at the model's rate, and
        that rate; None while nothing is held. Safe from any thread (the ring locks)."""
        rate = self.classifier.bundle.sample_rate
        samples = self.ring.recent(seconds, rate)
        return None if samples is None else (samples, rate)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        bundle = self.classifier.bundle
        received, heard_at = self.ring.received, self._clock()
        while not self._stop.wait(POLL_S):
            now = self._clock()
            if self.ring.received != received:
                received, heard_at = self.ring.received, now
            elif now - heard_at > self.idle_stop_s:
                self.ring.clear()
                return
            if not self.pacer.due(now, received):
                continue
            window = self.ring.latest(bundle.window_s, bundle.sample_rate)
            if window is None:  # less than one window heard so far
                continue
            started = self._clock()
            prediction = self.classifier.predict_samples(window)
            done = self._clock()
            self.pacer.spent(done - started)
            self._publish(prediction, done, done - started, done - now)

    def _publish(self, prediction, now: float, cost_s: float, age_s: float) -> None:
        verdict = prediction.verdict
        with self._lock:
            if self._smoothed is None:
                self._smoothed = prediction.probs.copy()
            else:
                keep = math.exp(-(now - self._smoothed_at) / SMOOTH_S)
                self._smoothed = keep * self._smoothed + (1 - keep) * prediction.probs
            self._smoothed_at = now
            genre = prediction.genre if prediction.is_music else None
            self._history.append((now, genre))
            while self._history and now - self._history[0][0] > HISTORY_S:
                self._history.popleft()
            self._analysed_at.append(now)
            span = self._analysed_at[-1] - self._analysed_at[0]
            rate = (len(self._analysed_at) - 1) / span if span > 0 else 0.0
            tags = tuple(list(prediction.tags or {})[:TOP_TAGS]) if prediction.is_music else ()
            self._state = LiveSnapshot(
                listening=True,
                heading=verdict.heading,
                genre=genre,
                is_music=prediction.is_music,
                probabilities=dict(zip(prediction.labels, self._smoothed.tolist(), strict=True)),
                tags=tags,
                history=tuple((now - at, g) for at, g in self._history),
                analyses_per_s=rate,
                analysis_ms=cost_s * 1000,
                sound_age_s=age_s,
            )


@dataclass(frozen=True)
class LiveWhy:
    """A classified and explained copy of recent live sound (kept by the page, in memory)."""

    seconds: float
    prediction: Prediction
    explanation: Explanation | None  # None when the snapshot does not sound like music


def explain_recent(classifier: Classifier, samples: np.ndarray) -> LiveWhy:
    """Classify a snapshot (mono, at the model's rate) and, when it is music, explain it.

    The snapshot is classified afresh rather than reusing the live verdict: the live answer
    covers the newest 3 s, smoothed, while the explanation covers the whole snapshot.
    """
    rate = classifier.bundle.sample_rate
    prediction = classifier.predict_samples(samples)
    explanation = explain(classifier, samples, prediction.genre) if prediction.is_music else None
    return LiveWhy(len(samples) / rate, prediction, explanation)
