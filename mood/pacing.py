"""Which live video frames to analyse: a time budget, not a fixed frame skip.

Skipping "every n-th frame" or "frames at least 1/fps apart" quantises badly on a 30 fps
camera: with a 15 fps cap, a frame that arrives a millisecond early waits one more frame, and
the real rate drops to ~11 fps. A token bucket instead earns ``rate × elapsed`` analysis
credits per frame and spends one per analysed frame, so the average rate is the target rate
whatever the camera's frame rate or jitter.

The target rate is ``min(max_fps, max_busy / cost)``: at most ``max_fps`` frames per second,
and the analysis never takes more than ``max_busy`` of the wall time, which keeps the CPU from
saturating (the video, the page and other users need some too) when frames get expensive.
"""

from __future__ import annotations

from mood.errors import MoodError

DEFAULT_MAX_FPS = 20.0
DEFAULT_MAX_BUSY = 0.6  # share of wall time the analysis may take
BURST = 2.0  # credits can pile up to this: one frame's jitter is caught up, no long bursts


class FramePacer:
    def __init__(self, max_fps: float = DEFAULT_MAX_FPS, max_busy: float = DEFAULT_MAX_BUSY):
        if max_fps <= 0 or not 0 < max_busy <= 1:
            raise MoodError("The live analysis needs max_fps > 0 and 0 < max_busy ≤ 1.")
        self.max_fps = max_fps
        self.max_busy = max_busy
        self.cost_s = 0.0  # running mean of one analysis, in seconds
        self._credit = 1.0  # the first frame is analysed at once
        self._last_frame_at: float | None = None

    @property
    def rate(self) -> float:
        """Frames per second to analyse now: the cap, or less when analysis is expensive."""
        if self.cost_s <= 0:
            return self.max_fps
        return min(self.max_fps, self.max_busy / self.cost_s)

    def due(self, now: float) -> bool:
        """Call once per incoming frame; True means analyse this one."""
        if self._last_frame_at is not None:
            elapsed = max(0.0, now - self._last_frame_at)
            self._credit = min(BURST, self._credit + elapsed * self.rate)
        self._last_frame_at = now
        if self._credit >= 1.0:
            self._credit -= 1.0
            return True
        return False

    def spent(self, cost_s: float) -> None:
        """Record how long an analysis took (a running mean: one slow frame is not a trend)."""
        cost_s = max(0.0, cost_s)
        self.cost_s = cost_s if self.cost_s == 0 else 0.8 * self.cost_s + 0.2 * cost_s

    def reset(self) -> None:
        self._credit = 1.0
        self._last_frame_at = None
