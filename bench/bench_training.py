"""Training speed figures → bench/results/training.json (not a test; numbers vary by machine).

- every feature model on the full GTZAN feature table, artist-filtered split: seconds each
  and all together (target: ≤ 60 s together on 2 CPU cores);
- every spectrogram model: training throughput (3-s log-mel windows per second, batch 32) and
  inference time per 30-s track, on real windows of the shared clips;
- if ``python -m genre benchmark --deep`` has run, each deep model's full grouped-CV training
  time on the 100 clips (target: ≤ 10 min per model).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GENRE_STUDIO_HOME", tempfile.mkdtemp(prefix="genre-bench-"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from audio import load_audio  # noqa: E402
from genre.models import get_model_spec  # noqa: E402
from genre.paths import shared_gtzan_dir  # noqa: E402
from genre.training import benchmark  # noqa: E402
from genre.training.config import RunConfig  # noqa: E402
from genre.training.experiment import frontend_of  # noqa: E402

OUT = ROOT / "bench" / "results" / "training.json"
STEPS = 6


def feature_models() -> dict:
    started = time.monotonic()
    rows = benchmark.feature_benchmark(log=lambda message: None)
    return {
        "total_seconds": round(time.monotonic() - started, 1),
        "target_seconds": 60,
        "models": {
            r["model"]: {
                "seconds": round(r["wall_seconds"], 2),
                "fit_seconds": round(r["train_seconds"], 2),
                "test_accuracy": round(r["test_accuracy"], 4),
            }
            for r in rows
        },
    }


def real_windows(n: int = 32) -> tuple[torch.Tensor, np.ndarray]:
    """``n`` 3-s log-mel windows cut from real clips, and one whole 30-s clip's spectrogram."""
    config = RunConfig(model="simple_cnn", dataset="shared")
    frontend = frontend_of(config)
    frames = frontend.frames_for(config.window_s)
    clips = sorted((shared_gtzan_dir() / "audio").glob("*/*.00000.ogg"))
    mels = [frontend(load_audio(c, sample_rate=22050).samples) for c in clips]
    windows = [m[:, s : s + frames] for m in mels for s in (0, frames, 2 * frames, 3 * frames)]
    return torch.from_numpy(np.stack(windows[:n]).astype(np.float32)), mels[0]


def deep_models(threads: int) -> dict:
    torch.set_num_threads(threads)
    batch, track = real_windows()
    targets = torch.arange(len(batch)) % 10
    frames = batch.shape[-1]
    hop = frames // 2
    track_windows = torch.from_numpy(
        np.stack([track[:, s : s + frames] for s in range(0, track.shape[1] - frames + 1, hop)])
    )
    out = {}
    for name in benchmark.deep_models():
        model = get_model_spec(name).build(n_mels=batch.shape[1], n_classes=10)
        optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
        model.train()
        for step in range(STEPS + 1):
            if step == 1:  # the first step pays one-off allocation costs
                started = time.monotonic()
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(batch), targets).backward()
            optimiser.step()
        train_rate = STEPS * len(batch) / (time.monotonic() - started)
        model.eval()
        with torch.inference_mode():
            model(track_windows)
            started = time.monotonic()
            for _ in range(3):
                model(track_windows)
        out[name] = {
            "train_windows_per_s": round(train_rate, 1),
            "inference_ms_per_track": round(1000 * (time.monotonic() - started) / 3, 1),
            "weights": int(sum(p.numel() for p in model.parameters())),
        }
        print(f"{name}: {train_rate:.0f} windows/s with {threads} thread(s)", file=sys.stderr)
    return out


def deep_cv_times() -> dict | None:
    results = ROOT / "bench" / "results" / "benchmark.json"
    if not results.is_file():
        return None
    deep = json.loads(results.read_text()).get("deep") or []
    return {
        r["model"]: {
            "grouped_cv_train_minutes": round(r["train_seconds"] / 60, 1),
            "wall_minutes": round(r["wall_seconds"] / 60, 1),
            "per_fold_minutes": round(r["train_seconds"] / 60 / r["settings"]["folds"], 1),
            "windows_per_second": round(r["windows_per_second"], 1),
            "accuracy_mean": round(r["kfold_mean"], 4),
            "settings": r["settings"],
        }
        for r in deep
    }


def main() -> None:
    result = {
        "machine": {"cpus": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2)},
        "feature_models": feature_models(),
        "deep_throughput_1_thread": deep_models(1),
        "deep_throughput_all_threads": deep_models(os.cpu_count() or 1),
        "deep_grouped_cv": deep_cv_times(),
        "target_minutes_per_deep_model": 10,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["feature_models"], indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
