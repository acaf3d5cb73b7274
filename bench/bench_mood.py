"""Mood speed: detection + emotion per 640×480 frame, live frames/s, mood change → playlist.

Writes bench/results/mood.json. The frames are real (skimage's astronaut photo on a 640×480
canvas); the second frame is the same face with the smile covered.
"""

from __future__ import annotations

import os
import time

import cv2
import numpy as np
import skimage.data
import torch
from common import median_ms, write_results

from mood.analysis import MoodAnalyzer
from mood.emotion import BuiltinRecognizer
from mood.faces import FaceDetector, live_detector
from mood.live import LiveMoodProcessor
from mood.queries import build_queries
from mood.youtube import recommend

FPS_IN = 30.0  # a typical webcam


def frames() -> tuple[np.ndarray, np.ndarray]:
    face = skimage.data.astronaut()[16:496, :, ::-1]
    happy = np.full((480, 640, 3), 110, np.uint8)
    happy[:, 64:576] = face
    covered = happy.copy()
    # cover the smile (face box at x≈238, y≈48, 100×100 on this canvas): no longer "happy"
    cv2.rectangle(covered, (256, 115), (320, 145), (110, 110, 110), -1)
    return np.ascontiguousarray(happy), covered


def median_cpu_ms(fn, repeats: int = 40) -> float:
    """CPU time of this thread per call: what one idle core would need (single-threaded)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        fn()
        times.append((time.thread_time() - start) * 1000)
    return float(np.median(times))


def stream(processor: LiveMoodProcessor, frame: np.ndarray, seconds: float, until=None) -> float:
    """Feed frames at FPS_IN in real time; return elapsed seconds (stops early on ``until``)."""
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        processor.process(frame)
        n += 1
        if until and until(processor.snapshot()):
            break
        delay = start + n / FPS_IN - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return time.monotonic() - start


def main() -> None:
    happy, covered = frames()
    recognizer = BuiltinRecognizer()
    live_analyzer = MoodAnalyzer(recognizer, live_detector())
    full_analyzer = MoodAnalyzer(recognizer, FaceDetector())
    assert live_analyzer.analyze(happy).primary.emotion == "happy"
    other = live_analyzer.analyze(covered).primary.emotion
    assert other != "happy"

    detect_live = median_ms(lambda: live_analyzer.detector.detect(happy), repeats=40)
    detect_full = median_ms(lambda: full_analyzer.detector.detect(happy), repeats=20)
    boxes = live_analyzer.detector.detect(happy)
    emotion_ms = median_ms(lambda: recognizer.predict(happy, boxes), repeats=40)
    frame_live = median_ms(lambda: live_analyzer.analyze(happy), repeats=40)
    frame_full = median_ms(lambda: full_analyzer.analyze(happy), repeats=20)

    # The same with one intra-op thread for torch and OpenCV: on a busy 2-core machine the
    # tiny network suffers badly from OpenMP oversubscription (set_num_threads is global, so
    # the app leaves this choice to its entry point).
    threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    emotion_ms_1 = median_ms(lambda: recognizer.predict(happy, boxes), repeats=40)
    frame_live_1 = median_ms(lambda: live_analyzer.analyze(happy), repeats=40)
    cpu_live = median_cpu_ms(lambda: live_analyzer.analyze(happy))
    cpu_full = median_cpu_ms(lambda: full_analyzer.analyze(happy))
    torch.set_num_threads(threads[0])
    cv2.setNumThreads(threads[1])

    processor = LiveMoodProcessor(live_analyzer)
    seconds = stream(processor, happy, 6.0)
    state = processor.snapshot()
    live_fps = state.frames_analysed / seconds

    # Mood change: steady "happy", then the smile disappears; time until the steady mood flips.
    processor = LiveMoodProcessor(live_analyzer)
    stream(processor, happy, 3.0)
    assert processor.snapshot().mood == "happy"
    change_s = stream(processor, covered, 15.0, until=lambda s: s.mood == other)
    flipped = processor.snapshot().mood == other
    search = recommend(build_queries(other, "English"), timeout=8.0)

    write_results(
        "mood",
        {
            "frame": "640x480 BGR, one face",
            "torch_threads": torch.get_num_threads(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "detect_emotion_ms_median_live": round(frame_live, 2),
            "detect_emotion_ms_median_full_res": round(frame_full, 2),
            "detect_ms_median_live": round(detect_live, 2),
            "detect_ms_median_full_res": round(detect_full, 2),
            "emotion_ms_median_one_face": round(emotion_ms, 2),
            "one_thread": {
                "detect_emotion_ms_median_live": round(frame_live_1, 2),
                "emotion_ms_median_one_face": round(emotion_ms_1, 2),
                "detect_emotion_cpu_ms_median_live": round(cpu_live, 2),
                "detect_emotion_cpu_ms_median_full_res": round(cpu_full, 2),
            },
            "live_input_fps": FPS_IN,
            "live_analysed_fps": round(live_fps, 2),
            "live_frames": {"seen": state.frames_seen, "analysed": state.frames_analysed},
            "mood_change_detected_s": round(change_s, 2) if flipped else None,
            "mood_change": f"happy -> {other} (smile covered)",
            "mood_hold_s": 2.0,
            "page_poll_interval_s": 1.0,
            "search_status": search.status,
            "search_s": round(search.elapsed_s, 3),
            "mood_change_to_list_s_upper_bound": round(change_s + 1.0 + search.elapsed_s, 2)
            if flipped
            else None,
            "notes": "live detection: frames downscaled to 320 px wide, scale step 1.2, faces "
            ">= 60 px; the mood that drives the playlist changes after a new emotion leads for "
            "2 s (by design); the page polls once a second; search time is with this machine's "
            "network; cpu_ms = this thread's CPU time (what an idle core needs).",
        },
    )


if __name__ == "__main__":
    main()
