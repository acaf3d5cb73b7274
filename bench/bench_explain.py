"""Why-this-genre speed: a 30-s clip's explanation with the default bundle (target ≤ 2 s).

Warm: the classifier is loaded once and one explanation is made before timing. For five real
clips, each explained REPEATS times from decoded 16-kHz samples (what the page does after
decoding): wall time and process CPU time of the explanation (evidence + stitching + summary),
and of drawing the overlay PNG. The load average is recorded because on a shared machine wall
time mostly measures the other processes; CPU time is the steadier figure.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app and CLIs do

import statistics
import time
from pathlib import Path

import torch
from common import write_results

from audio import load_audio, resample
from genre.classifier import Classifier
from genre.explain import explain
from genre.paths import default_bundle_dir, shared_gtzan_dir

CLIPS = ("blues.00000", "classical.00001", "hiphop.00002", "metal.00003", "reggae.00004")
REPEATS = 3


def clip_samples(name: str, rate: int) -> object:
    path = shared_gtzan_dir() / "audio" / name.split(".")[0] / f"{name}.ogg"
    audio = load_audio(Path(path), sample_rate=rate)
    return resample(audio.samples, audio.sample_rate, rate)


def timed(fn) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(values), 3),
        "min_s": round(min(values), 3),
        "max_s": round(max(values), 3),
    }


def main() -> None:
    classifier = Classifier(default_bundle_dir())
    rate = classifier.bundle.sample_rate
    clips = {name: clip_samples(name, rate) for name in CLIPS}
    explain(classifier, clips[CLIPS[0]])  # warm-up
    load_before = os.getloadavg()[0]
    walls, cpus, png_walls, png_cpus, totals = [], [], [], [], []
    for _ in range(REPEATS):
        for samples in clips.values():
            explanation, wall, cpu = timed(lambda s=samples: explain(classifier, s))
            _, png_wall, png_cpu = timed(explanation.overlay_png)
            walls.append(wall)
            cpus.append(cpu)
            png_walls.append(png_wall)
            png_cpus.append(png_cpu)
            totals.append(wall + png_wall)
    write_results(
        "explain",
        {
            "what": "warm explanation of a 30-s clip (10 windows), default bundle, from samples",
            "clips": list(CLIPS),
            "runs": len(walls),
            "torch_threads": torch.get_num_threads(),
            "load_average_1min": {
                "before": round(load_before, 2),
                "after": round(os.getloadavg()[0], 2),
            },
            "explain_wall": summary(walls),
            "explain_cpu": summary(cpus),
            "overlay_png_wall": summary(png_walls),
            "overlay_png_cpu": summary(png_cpus),
            "explain_plus_png_wall": summary(totals),
            "target_s": 2.0,
        },
    )


if __name__ == "__main__":
    main()
