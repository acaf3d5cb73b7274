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
from mood.pacing import FramePacer
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


def test_frames_are_analysed_paced_and_smoothed(analyzer, face_frame, empty_frame):
    # The fake clock stands still during analysis: to the pacer every analysis is free, so
    # exactly the frame cap applies (the CPU-time cap is tested on the pacer below).
    clock = Clock()
    live = LiveMoodProcessor(analyzer, max_fps=20, window=4, hold_s=1.0, clock=clock)
    for _ in range(30):  # one second of 30 fps video
        out = live.process(face_frame)
        assert out.shape == face_frame.shape and not np.array_equal(out, face_frame)  # boxes
        clock.now += 1 / 30
    state = live.snapshot()
    assert state.frames_seen == 30
    assert 19 <= state.frames_analysed <= 21  # 20 of 30 frames: the cap, not a frame skip
    assert state.faces == 1 and state.current == "happy" and state.mood == "happy"
    assert state.probabilities["happy"] > 0.9

    for _ in range(120):  # the face leaves for 4 s: the smoothed emotion goes, the mood stays
        live.process(empty_frame)
        clock.now += 1 / 30
    state = live.snapshot()
    assert state.faces == 0 and state.current is None and state.mood == "happy"
    live.reset()
    assert live.snapshot().mood is None and live.snapshot().frames_seen == 0


def frames_due(pacer: FramePacer, seconds: float, fps_in: float = 30.0, cost_s: float = 0.0):
    due = 0
    for i in range(round(seconds * fps_in)):
        if pacer.due(i / fps_in):
            due += 1
            pacer.spent(cost_s)
    return due


def test_pacer_keeps_the_target_rate_on_a_30_fps_camera():
    # A plain "at least 1/15 s apart" throttle gives ~11 fps here (15 needs every other frame,
    # and a frame that is a hair early waits for the next one); the budget gives 15.
    assert frames_due(FramePacer(max_fps=15), 10.0) in (150, 151)
    assert frames_due(FramePacer(max_fps=20), 10.0) in (200, 201)
    assert frames_due(FramePacer(max_fps=20), 10.0, fps_in=15.0) == 150  # never above input


def test_pacer_limits_the_busy_share_of_the_cpu():
    # 50 ms per analysis with at most 60 % busy: 12 frames/s, not 20.
    pacer = FramePacer(max_fps=20, max_busy=0.6)
    assert frames_due(pacer, 10.0, cost_s=0.05) in range(118, 124)
    assert pacer.rate == pytest.approx(12.0)
    # 20 ms per analysis: the 20 fps cap applies, at 40 % busy.
    assert frames_due(FramePacer(max_fps=20, max_busy=0.6), 10.0, cost_s=0.02) in (200, 201)


def test_pacer_follows_jittery_frames_without_bursts():
    pacer = FramePacer(max_fps=20)
    now, due = 0.0, 0
    for i in range(300):  # 10 s of frames alternately 20 ms and 46.7 ms apart
        due += pacer.due(now)
        now += 0.02 if i % 2 else 0.0467
    assert 195 <= due <= 202
    # after a pause, at most two frames in a row are analysed (caught-up credit is capped)
    row = [pacer.due(now + 60.0 + i * 1e-3) for i in range(5)]
    assert row == [True, True, False, False, False]
    with pytest.raises(MoodError):
        FramePacer(max_fps=0)


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
