"""musicnn speed: our PyTorch port vs the original TensorFlow graph, same clips, same run.

Ours: warm end-to-end latency of a 30-s clip through the default bundle (decode, resample,
log-mel, backbone + head, tags), median of 20+; and the same from 16-kHz samples (front-end +
network only), in float32 and in the bundle's low-precision mode.
TF: the original graph (``tools/musicnn_tf_reference.py bench``) from the throwaway venv
``/tmp/musicnn-tfenv`` made by ``tools/convert_musicnn.py``: librosa float32 front-end + graph,
batched and one patch per call (as the wheel runs it), from the same 16-kHz samples; and file →
tags the wheel's own way (``librosa.load`` + one patch per call) against ours end to end.
Skipped with a message when absent.
"""

from __future__ import annotations

import os

# OpenMP's default spin-waiting makes every torch op wait for a descheduled sibling thread when
# any other process is busy on a 2-core machine (measured: 8x slower). Passive waiting is what
# the app should run with too; it must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from common import ROOT, median_ms, write_results

from audio import load_audio
from genre.classifier import Classifier
from genre.paths import ASSETS_DIR, shared_gtzan_dir

BUNDLE = ASSETS_DIR / "musicnn-genre"
TF_PYTHON = Path("/tmp/musicnn-tfenv/bin/python")
CLIPS = ("blues.00000", "classical.00001", "hiphop.00002", "metal.00003", "reggae.00004")
REPEATS = 20


def clip_paths() -> list[Path]:
    root = shared_gtzan_dir() / "audio"
    return [root / c.split(".")[0] / f"{c}.ogg" for c in CLIPS]


def cycle(items: list) -> object:
    state = {"i": 0}

    def next_item() -> object:
        item = items[state["i"] % len(items)]
        state["i"] += 1
        return item

    return next_item


def ours(paths: list[Path]) -> dict:
    classifier = Classifier(BUNDLE)
    low = bool(classifier.bundle.params.get("low_precision", False))
    next_path = cycle(paths)
    # Warm: every clip once first (file cache, oneDNN kernels, allocator pools).
    end_to_end = median_ms(
        lambda: classifier.predict(next_path()), repeats=REPEATS, warmup=len(paths)
    )
    waves = [load_audio(p, sample_rate=16000).samples for p in paths]
    next_wave = cycle(waves)
    backbone = classifier.model.backbone
    results = {"end_to_end_ms_median": round(end_to_end, 1)}
    for name, flag in (("from_samples_float32_ms_median", False), ("from_samples_ms_median", low)):
        backbone.set_low_precision(flag)
        results[name] = round(
            median_ms(lambda: classifier.predict_samples(next_wave()), repeats=REPEATS), 1
        )
    backbone.set_low_precision(low)
    results.update(
        bundle=BUNDLE.name,
        low_precision=low and backbone.low_precision,
        torch_threads=torch.get_num_threads(),
        omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
        repeats=REPEATS,
    )
    return results


def tensorflow(paths: list[Path]) -> dict:
    if not TF_PYTHON.is_file():
        return {"skipped": f"{TF_PYTHON} absent: run tools/convert_musicnn.py to create it"}
    probe = "import os, musicnn.configuration as c; print(os.path.dirname(c.__file__))"
    locate = subprocess.run(
        [str(TF_PYTHON), "-c", probe],
        capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    if locate.returncode != 0:
        return {"skipped": "the throwaway venv lacks tensorflow or musicnn; rerun the converter"}
    checkpoint = Path(locate.stdout.strip().splitlines()[-1]) / "MSD_musicnn"
    with tempfile.TemporaryDirectory(prefix="musicnn-bench-") as tmp:
        waves = Path(tmp) / "waves.npz"
        np.savez(
            waves,
            **{
                c: load_audio(p, sample_rate=16000).samples
                for c, p in zip(CLIPS, paths, strict=True)
            },
        )
        out = Path(tmp) / "tf.json"
        subprocess.run(
            [str(TF_PYTHON), str(ROOT / "tools" / "musicnn_tf_reference.py"), "bench",
             str(checkpoint), str(waves), str(out), *map(str, paths)],
            check=True, capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )  # fmt: skip
        return json.loads(out.read_text())


def main() -> None:
    paths = clip_paths()
    mine = ours(paths)
    tf = tensorflow(paths)
    results: dict = {"clips": list(CLIPS), "ours": mine, "tensorflow": tf}
    if "batched" in tf:
        # Like for like: both from the same 16-kHz samples, front-end + network.
        tf_ms = tf["batched"]["median_ms"]
        results["speedup_vs_tf_batched"] = round(tf_ms / mine["from_samples_ms_median"], 2)
        results["speedup_vs_tf_per_patch"] = round(
            tf["per_patch"]["median_ms"] / mine["from_samples_ms_median"], 2
        )
        # File → tags, each as shipped: ours end to end vs the wheel's own way.
        results["speedup_vs_tf_wheel_end_to_end"] = round(
            tf["wheel_end_to_end"]["median_ms"] / mine["end_to_end_ms_median"], 2
        )
    else:
        print(f"TensorFlow comparison skipped: {tf['skipped']}")
    results["targets"] = {"warm_30s_end_to_end_ms": 150, "speedup_vs_tf": 3}
    write_results("musicnn", results)


if __name__ == "__main__":
    main()
