"""Live listening speed (Classify page, Live tab): model time per window, latency, CPU share.

* model time per update: ``predict_samples`` on one 3-s window at 16 kHz (default bundle),
  warm, median of 30 (target ≤ 30 ms);
* listening: a real clip fed as 20-ms 48-kHz stereo frames at real-time pace for LISTEN_S into a
  :class:`genre.live.LiveListener`, as the WebRTC callback does. Sound-to-snapshot latency is
  the time from the arrival of the newest frame in an analysed window to the snapshot holding
  its answer; the page shows snapshots every second, so sound-to-screen is at most that plus
  1 s (reported as such, not measured in a browser). CPU share is the process's CPU time over
  wall time while listening (feeder thread included), in cores.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app and CLIs do

import statistics
import threading
import time

import numpy as np
from common import median_ms, write_results

from audio import load_audio, resample
from genre.classifier import Classifier
from genre.live import LiveListener
from genre.paths import default_bundle_dir, shared_gtzan_dir

RATE = 48000
FRAME = 960  # 20 ms
LISTEN_S = 20.0
PAGE_REFRESH_S = 1.0  # the Live panel's fragment reruns this often


def main() -> None:
    classifier = Classifier(default_bundle_dir())
    clip = shared_gtzan_dir() / "audio" / "rock" / "rock.00003.ogg"
    audio = load_audio(clip, sample_rate=RATE)
    music = audio.samples.astype(np.float32)
    window = resample(music[: 3 * RATE], RATE, classifier.bundle.sample_rate)
    model_ms = median_ms(lambda: classifier.predict_samples(window), repeats=30, warmup=3)

    listener = LiveListener(classifier)
    stereo = np.repeat(np.round(music * 32767).astype(np.int16), 2)

    def feed() -> None:
        began = time.monotonic()
        for i, start in enumerate(range(0, int(LISTEN_S * RATE), FRAME)):
            chunk = stereo[2 * (start % (len(music) - FRAME)) :][: 2 * FRAME]
            wait = began + i * FRAME / RATE - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            listener.add_frame(chunk, RATE, 2, at=start / RATE)

    feeder = threading.Thread(target=feed)
    cpu0, wall0 = time.process_time(), time.monotonic()
    listener.start()
    feeder.start()
    seen: list = []
    while feeder.is_alive():
        snapshot = listener.snapshot()
        if snapshot.heading is not None and (not seen or snapshot is not seen[-1][1]):
            seen.append((time.monotonic(), snapshot))
        time.sleep(0.01)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    listener.stop()
    latencies = [s.sound_age_s for _, s in seen]
    analysis_ms = [s.analysis_ms for _, s in seen]
    write_results(
        "live",
        {
            "what": "Live tab: one 3-s window per update, default bundle; listener fed real time",
            "load_average_1min": round(os.getloadavg()[0], 2),
            "model_ms_per_window_median": round(model_ms, 1),
            "listening_s": round(wall, 1),
            "updates": len(seen),
            "updates_per_s": round(len(seen) / wall, 2),
            "analysis_ms_in_listener_median": round(statistics.median(analysis_ms), 1),
            "sound_to_snapshot_s_median": round(statistics.median(latencies), 3),
            "sound_to_snapshot_s_max": round(max(latencies), 3),
            "sound_to_screen_s_at_most": round(max(latencies) + PAGE_REFRESH_S, 3),
            "cpu_cores_while_listening": round(cpu / wall, 3),
            "targets": {"model_ms": 30, "sound_to_screen_s": 1.5},
        },
    )


if __name__ == "__main__":
    main()
