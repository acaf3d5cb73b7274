"""Live listening, the parts that need no browser: a ring buffer of recent sound and a pacer.

WebRTC delivers audio as short frames (typically 10–20 ms at 48 kHz, interleaved int16, mono or
stereo), with jitter and sometimes gaps. :class:`AudioRing` keeps only the last few seconds, as
mono float32 at the incoming rate: resampling happens once per analysis on the window analysed,
not per frame, so frame edges leave no filter artefacts. Nothing is written anywhere; ``clear``
drops it all. :class:`AnalysisPacer` decides when the analyser may run: about once a second, never
more often than its measured cost allows within a share of the time, and only when new sound
arrived: a slow analysis skips to the newest window rather than queueing stale ones.
"""

from __future__ import annotations

import threading

import numpy as np

from audio import resample
from genre.errors import GenreError

RING_S = 10.0  # seconds of recent sound kept
# A pause in the frames' timestamps longer than this starts the sound afresh. With the CPU
# saturated, WebRTC drops about half a second of frames every ~10 s (measured: jumps of
# 0.50-0.60 s); at 0.5 s each such dropout threw away up to 10 s of sound, so the "Why?"
# snapshot often had too little. Music on both sides of a short dropout is the same music.
GAP_S = 2.0
INT16_SCALE = 1.0 / 32768.0


class AudioRing:
    """The last ``seconds`` of mono sound, thread-safe (frames in, windows out)."""

    def __init__(self, seconds: float = RING_S) -> None:
        if seconds <= 0:
            raise GenreError("The live buffer needs a positive length in seconds.")
        self.seconds = seconds
        self._lock = threading.Lock()
        self._buffer = np.zeros(0, dtype=np.float32)
        self._rate = 0
        self._filled = 0  # samples held, ≤ capacity
        self._end = 0  # where the next sample goes
        self._received = 0  # samples appended since the last clear (restarts included)
        self._next_at: float | None = None  # when the next frame should start, if timestamped

    def append(
        self, samples: np.ndarray, sample_rate: int, channels: int, at: float | None = None
    ) -> None:
        """Add one frame: interleaved int16 or float samples of ``channels`` channels.

        ``at`` is the frame's start time in seconds (the frame's own timestamp) when known: a
        frame starting more than GAP_S after the previous one ended (the stream paused or was
        restarted) drops the older sound, so no window joins two unrelated stretches. Late or
        early frames within that tolerance (jitter) are simply appended.
        """
        if sample_rate <= 0 or channels <= 0:
            raise GenreError(f"Bad audio frame: {sample_rate} Hz, {channels} channel(s).")
        data = np.asarray(samples)
        scale = INT16_SCALE if data.dtype == np.int16 else 1.0
        flat = data.reshape(-1)
        if flat.size % channels:
            raise GenreError(f"Bad audio frame: {flat.size} samples do not split in {channels}.")
        mono = (flat.reshape(-1, channels).astype(np.float32) * scale).mean(axis=1)
        with self._lock:
            restart = sample_rate != self._rate or (
                at is not None and self._next_at is not None and at - self._next_at > GAP_S
            )
            if restart:
                self._reset(sample_rate)
            self._write(mono)
            self._received += len(mono)
            if at is not None:
                self._next_at = at + len(mono) / sample_rate

    def _reset(self, sample_rate: int) -> None:
        self._rate = sample_rate
        self._buffer = np.zeros(round(self.seconds * sample_rate), dtype=np.float32)
        self._filled = self._end = 0
        self._next_at = None

    def _write(self, mono: np.ndarray) -> None:
        capacity = len(self._buffer)
        mono = mono[-capacity:]
        first = min(len(mono), capacity - self._end)
        self._buffer[self._end : self._end + first] = mono[:first]
        self._buffer[: len(mono) - first] = mono[first:]
        self._end = (self._end + len(mono)) % capacity
        self._filled = min(capacity, self._filled + len(mono))

    def clear(self) -> None:
        with self._lock:
            self._buffer = np.zeros(0, dtype=np.float32)
            self._rate = self._filled = self._end = self._received = 0
            self._next_at = None

    @property
    def received(self) -> int:
        """Samples appended since the last clear: changes whenever new sound arrives."""
        with self._lock:
            return self._received

    @property
    def held_s(self) -> float:
        with self._lock:
            return self._filled / self._rate if self._rate else 0.0

    def latest(self, seconds: float, sample_rate: int) -> np.ndarray | None:
        """The most recent ``seconds`` as mono float32 at ``sample_rate``; None until held."""
        with self._lock:
            if not self._rate:
                return None
            wanted = round(seconds * self._rate)
            if wanted <= 0 or wanted > self._filled:
                return None
            window, rate = self._last(wanted), self._rate
        return resample(window, rate, sample_rate)

    def recent(self, seconds: float, sample_rate: int) -> np.ndarray | None:
        """Up to the last ``seconds`` (all that is held, if less) as mono float32 at
        ``sample_rate``: a copy, so the caller may keep it while frames keep arriving.
        None while nothing is held."""
        with self._lock:
            wanted = min(round(seconds * self._rate), self._filled)
            if wanted <= 0:
                return None
            window, rate = self._last(wanted), self._rate
        return resample(window, rate, sample_rate)  # outside the lock: frames never wait on it

    def _last(self, count: int) -> np.ndarray:
        """A copy of the newest ``count`` samples (``count`` ≤ held); call with the lock held."""
        start = (self._end - count) % len(self._buffer)
        if start + count <= len(self._buffer):
            return self._buffer[start : start + count].copy()
        return np.concatenate([self._buffer[start:], self._buffer[: self._end]])  # wraps


class AnalysisPacer:
    """When the live analyser may run: every ``interval_s`` at most, within a time budget."""

    def __init__(self, interval_s: float = 1.0, max_busy: float = 0.5) -> None:
        if interval_s <= 0 or not 0 < max_busy <= 1:
            raise GenreError("The live analysis needs interval_s > 0 and 0 < max_busy ≤ 1.")
        self.interval_s = interval_s
        self.max_busy = max_busy
        self.cost_s = 0.0  # running mean of one analysis
        self._last_start: float | None = None
        self._last_received = -1

    @property
    def period_s(self) -> float:
        """Seconds between analyses: the interval, or longer when analyses are expensive."""
        return max(self.interval_s, self.cost_s / self.max_busy)

    def due(self, now: float, received: int) -> bool:
        """True when an analysis should start now (``received`` from :attr:`AudioRing.received`).

        Called from the analyser's loop as often as it likes: between due analyses it says no,
        so windows that came and went while an analysis ran are skipped, never queued.
        """
        if received == self._last_received:
            return False  # no new sound since the last analysis (a gap, or stopped)
        if self._last_start is not None and now - self._last_start < self.period_s:
            return False
        self._last_start = now
        self._last_received = received
        return True

    def spent(self, cost_s: float) -> None:
        """Record how long an analysis took (a running mean: one slow one is not a trend)."""
        cost_s = max(0.0, cost_s)
        self.cost_s = cost_s if self.cost_s == 0 else 0.7 * self.cost_s + 0.3 * cost_s
