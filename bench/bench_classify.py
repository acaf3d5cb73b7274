"""Classify speed: warm 30-s clip latency, cold start, folder throughput, peak memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, median_ms, write_results

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app and CLIs do

from genre.batch import classify_files, default_workers
from genre.bundle import shipped_bundles
from genre.classifier import Classifier
from genre.paths import shared_gtzan_dir


def measure(bundle: Path, clips: list[Path]) -> dict:
    clip_bytes = clips[0].read_bytes()
    classifier = Classifier(bundle)
    warm = median_ms(lambda: classifier.predict(clip_bytes), repeats=25)
    # What "is it music?" costs: the same bundle without the music detector.
    without_detector = Classifier(bundle, detector=False)
    warm_without = median_ms(lambda: without_detector.predict(clip_bytes), repeats=25)

    start = time.perf_counter()
    command = ["-m", "genre", "classify", "--bundle", str(bundle), "--json", str(clips[1])]
    cold = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, check=True)
    cold_s = time.perf_counter() - start
    assert cold.stdout

    batch = clips[:50]
    # The CLI's folder path (genre.batch: one file per core), then one file at a time.
    start = time.perf_counter()
    done = list(classify_files(classifier, batch))
    throughput = len(batch) / (time.perf_counter() - start)
    assert all(r.prediction is not None for r in done)
    start = time.perf_counter()
    for clip in batch:
        classifier.predict(clip)
    one_by_one = len(batch) / (time.perf_counter() - start)
    return {
        "warm_30s_clip_ms_median": round(warm, 1),
        "warm_30s_clip_ms_median_without_music_detector": round(warm_without, 1),
        "cold_start_first_result_s": round(cold_s, 2),
        "folder_throughput_tracks_per_s": round(throughput, 1),
        "folder_workers": default_workers(len(batch)),
        "one_file_at_a_time_tracks_per_s": round(one_by_one, 1),
        "folder_tracks": len(batch),
    }


def main() -> None:
    clips = sorted((shared_gtzan_dir() / "audio").glob("*/*.ogg"))
    results = {bundle.name: measure(bundle, clips) for bundle in shipped_bundles()}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0]
    write_results(
        "classify",
        {
            "bundles": results,
            "peak_memory_mb_all_bundles": round(peak_mb),
            "load_average_at_start": round(load, 2),
            "targets": {"warm_ms": 150, "cold_s": 3, "tracks_per_s": 10},
        },
    )


if __name__ == "__main__":
    main()
