"""Classify speed: warm 30-s clip latency, cold start, folder throughput, peak memory."""

from __future__ import annotations

import resource
import subprocess
import sys
import time

from common import ROOT, median_ms, write_results

from genre.classifier import Classifier
from genre.paths import active_bundle_dir, shared_gtzan_dir


def main() -> None:
    clips = sorted((shared_gtzan_dir() / "audio").glob("*/*.ogg"))
    bundle = active_bundle_dir()
    clip_bytes = clips[0].read_bytes()
    classifier = Classifier(bundle)
    warm = median_ms(lambda: classifier.predict(clip_bytes), repeats=25)

    start = time.perf_counter()
    cold = subprocess.run(
        [sys.executable, "-m", "genre", "classify", "--json", str(clips[1])],
        cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    cold_s = time.perf_counter() - start
    assert cold.stdout

    batch = clips[:50]
    start = time.perf_counter()
    for clip in batch:
        classifier.predict(clip)
    throughput = len(batch) / (time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    write_results(
        "classify",
        {
            "bundle": bundle.name,
            "warm_30s_clip_ms_median": round(warm, 1),
            "cold_start_first_result_s": round(cold_s, 2),
            "folder_throughput_tracks_per_s": round(throughput, 1),
            "folder_tracks": len(batch),
            "peak_memory_mb": round(peak_mb),
            "targets": {"warm_ms": 150, "cold_s": 3, "tracks_per_s": 10},
        },
    )


if __name__ == "__main__":
    main()
