"""Live video: per-frame analysis for a WebRTC callback, handed to the page thread safely.

``LiveMoodProcessor.process`` runs in streamlit-webrtc's worker thread; the page's script
thread only calls ``snapshot()``. All shared state sits behind one lock, and nothing here
touches Streamlit. Frames are analysed and drawn on in memory, then dropped.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mood.analysis import Analysis, MoodAnalyzer, annotate
from mood.errors import MoodError
from mood.labels import EMOTIONS
from mood.pacing import DEFAULT_MAX_BUSY, DEFAULT_MAX_FPS, FramePacer
from mood.smoothing import EmotionSmoother, StableMood

ICE_ENV = "MOOD_ICE_SERVERS"


@dataclass(frozen=True)
class LiveSnapshot:
    mood: str | None = None  # the stable mood that drives the playlist
    mood_since: float = 0.0
    current: str | None = None  # the smoothed emotion right now
    probabilities: dict[str, float] = field(default_factory=dict)
    faces: int = 0
    frames_seen: int = 0
    frames_analysed: int = 0
    analysed_fps: float = 0.0
    analysis_ms: float = 0.0
    last_frame_at: float = 0.0


class LiveMoodProcessor:
    """Analyse as many frames as the CPU budget allows, draw boxes, smooth the mood.

    Which frames are analysed is decided by a :class:`FramePacer` (a time budget: up to
    ``max_fps`` per second, never more than ``max_busy`` of the wall time); the other frames get
    the last boxes redrawn, so the video stays fluid.
    """

    def __init__(
        self,
        analyzer: MoodAnalyzer,
        max_fps: float = DEFAULT_MAX_FPS,
        window: int = 8,
        hold_s: float = 2.0,
        forget_s: float = 1.5,
        clock=time.monotonic,
        max_busy: float = DEFAULT_MAX_BUSY,
    ) -> None:
        self.analyzer = analyzer
        self.forget_s = forget_s  # no face for this long: the smoothed emotion is dropped
        self._last_face_at = -1e9
        # One clock for scheduling and cost, so the budget is in the units frames arrive in.
        self._clock = clock
        self._lock = threading.Lock()
        self._pacer = FramePacer(max_fps, max_busy)
        self._smoother = EmotionSmoother(window)
        self._stable = StableMood(hold_s)
        self._last: Analysis | None = None
        self._analysed_times: deque[float] = deque(maxlen=60)
        self._state = LiveSnapshot()

    def process(self, bgr: np.ndarray) -> np.ndarray:
        """Called per video frame (BGR); returns the frame to show."""
        now = self._clock()
        with self._lock:
            due = self._pacer.due(now)
            seen = self._state.frames_seen + 1
            if not due:
                self._state = _replace(self._state, frames_seen=seen, last_frame_at=now)
                last = self._last
        if not due:
            return annotate(bgr, last) if last else bgr

        analysis = self.analyzer.analyze(bgr)
        cost = self._clock() - now
        primary = analysis.primary
        with self._lock:
            self._last = analysis
            self._pacer.spent(cost)
            self._analysed_times.append(now)
            row = None
            if primary is not None:
                row = np.array([primary.probabilities[e] for e in EMOTIONS])
                self._last_face_at = now
            elif now - self._last_face_at > self.forget_s:
                self._smoother.reset()
            smoothed = self._smoother.update(row)
            current = None if smoothed is None else EMOTIONS[int(np.argmax(smoothed))]
            mood = self._stable.update(current, now)
            times = self._analysed_times
            fps = (
                (len(times) - 1) / (times[-1] - times[0])
                if len(times) > 1 and times[-1] > times[0]
                else 0.0
            )
            self._state = LiveSnapshot(
                mood=mood,
                mood_since=self._stable.since,
                current=current,
                probabilities={}
                if smoothed is None
                else dict(zip(EMOTIONS, map(float, smoothed), strict=True)),
                faces=len(analysis.faces),
                frames_seen=seen,
                frames_analysed=self._state.frames_analysed + 1,
                analysed_fps=fps,
                analysis_ms=self._pacer.cost_s * 1000,
                last_frame_at=now,
            )
        return annotate(bgr, analysis)

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            return self._state

    def reset(self) -> None:
        with self._lock:
            self._smoother.reset()
            self._stable = StableMood(self._stable.hold_s)
            self._last = None
            self._pacer.reset()
            self._analysed_times.clear()
            self._state = LiveSnapshot()


def _replace(state: LiveSnapshot, **changes: Any) -> LiveSnapshot:
    return replace(state, **changes)


def ice_servers(env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """ICE servers for WebRTC from ``MOOD_ICE_SERVERS`` (JSON list); none by default.

    On localhost no STUN/TURN server is needed. Served to other networks, browsers behind NAT
    need a TURN server, e.g.
    ``MOOD_ICE_SERVERS='[{"urls": "turn:turn.example.org:3478", "username": "u",
    "credential": "p"}]'``.
    """
    raw = (env if env is not None else os.environ).get(ICE_ENV, "").strip()
    if not raw:
        return []
    try:
        servers = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MoodError(
            f"{ICE_ENV} is not valid JSON: {exc.msg} (at character {exc.pos})."
        ) from exc
    if isinstance(servers, dict):
        servers = [servers]
    if not isinstance(servers, list):
        raise MoodError(f"{ICE_ENV} must be a JSON list of ICE servers.")
    for server in servers:
        urls = server.get("urls") if isinstance(server, dict) else None
        if not urls or not isinstance(urls, str | list):
            raise MoodError(
                f'Every entry of {ICE_ENV} needs "urls", e.g. {{"urls": "stun:host:3478"}}.'
            )
        schemes = [urls] if isinstance(urls, str) else urls
        if not all(
            isinstance(u, str) and u.split(":", 1)[0] in ("stun", "stuns", "turn", "turns")
            for u in schemes
        ):
            raise MoodError(
                f"ICE server URLs must start with stun:, stuns:, turn: or turns: ({urls})."
            )
    return servers
