"""Live mode without a browser: real frames through the processor the WebRTC callback uses."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import skimage.data

from mood import MoodError
from mood.analysis import MoodAnalyzer
from mood.faces import live_detector
from mood.live import LiveMoodProcessor, ice_servers
from mood.smoothing import EmotionSmoother, StableMood


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def analyzer() -> MoodAnalyzer:
    analyzer = MoodAnalyzer(detector=live_detector())
    analyzer.analyze(np.zeros((64, 64, 3), np.uint8))  # warm up torch outside the timed loop
    return analyzer


@pytest.fixture(scope="module")
def face_frame() -> np.ndarray:
    frame = np.full((480, 640, 3), 110, np.uint8)
    frame[:, 64:576] = skimage.data.astronaut()[16:496, :, ::-1]
    return frame


@pytest.fixture(scope="module")
def empty_frame() -> np.ndarray:
    frame = np.full((480, 640, 3), 110, np.uint8)
    frame[40:440, 20:620] = skimage.data.coffee()[:, :, ::-1]
    return frame


def test_frames_are_analysed_throttled_and_smoothed(analyzer, face_frame, empty_frame):
    clock = Clock()
    live = LiveMoodProcessor(analyzer, max_fps=10, window=4, hold_s=1.0, clock=clock)
    for _ in range(30):  # one second of 30 fps video
        out = live.process(face_frame)
        assert out.shape == face_frame.shape and not np.array_equal(out, face_frame)  # boxes
        clock.now += 1 / 30
    state = live.snapshot()
    assert state.frames_seen == 30
    assert 1 <= state.frames_analysed <= 10  # at most max_fps, fewer if analysis is slow
    assert state.faces == 1 and state.current == "happy" and state.mood == "happy"
    assert state.probabilities["happy"] > 0.9

    for _ in range(120):  # the face leaves for 4 s: the smoothed emotion goes, the mood stays
        live.process(empty_frame)
        clock.now += 1 / 30
    state = live.snapshot()
    assert state.faces == 0 and state.current is None and state.mood == "happy"
    live.reset()
    assert live.snapshot().mood is None and live.snapshot().frames_seen == 0


def test_snapshot_is_safe_from_another_thread(analyzer, face_frame):
    clock = Clock()
    live = LiveMoodProcessor(analyzer, max_fps=1000, clock=clock)
    states = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            states.append(live.snapshot())
            time.sleep(0.001)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(5):
            live.process(face_frame)
            clock.now += 60.0  # far apart: every frame is due, however slow the machine
    finally:
        done.set()
        thread.join(5)
    assert live.snapshot().frames_analysed == 5
    assert all(s.frames_analysed <= s.frames_seen for s in states)


def test_smoother_averages_and_forgets():
    smoother = EmotionSmoother(window=2, max_missing=1)
    a = np.eye(7)[3]
    b = np.eye(7)[4]
    smoother.update(a)
    np.testing.assert_allclose(smoother.update(b), (a + b) / 2)
    np.testing.assert_allclose(smoother.update(b), b)  # window of 2
    assert smoother.update(None) is not None  # one missing frame is tolerated
    assert smoother.update(None) is None
    with pytest.raises(MoodError):
        smoother.update(np.ones(3))


def test_stable_mood_needs_a_held_lead():
    stable = StableMood(hold_s=2.0)
    assert stable.update("happy", 0.0) == "happy"  # the first mood is taken at once
    assert stable.update("sad", 1.0) == "happy"
    assert stable.update("happy", 1.5) == "happy"  # flicker resets the candidate
    assert stable.update("sad", 2.0) == "happy"
    assert stable.update("sad", 4.0) == "sad" and stable.since == 4.0
    assert stable.update(None, 10.0) == "sad"


def test_ice_servers_default_none_and_parse_env():
    assert ice_servers({}) == []
    servers = ice_servers({"MOOD_ICE_SERVERS": '{"urls": "stun:stun.example.org:3478"}'})
    assert servers == [{"urls": "stun:stun.example.org:3478"}]
    turn = '[{"urls": ["turn:t.example.org:3478"], "username": "u", "credential": "p"}]'
    assert ice_servers({"MOOD_ICE_SERVERS": turn})[0]["username"] == "u"
    for bad in ("[", '["stun:x"]', '[{"urls": "http://x"}]', "42"):
        with pytest.raises(MoodError):
            ice_servers({"MOOD_ICE_SERVERS": bad})
