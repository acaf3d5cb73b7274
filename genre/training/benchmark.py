"""The README's results table, reproduced by ``python -m genre benchmark``.

(a) every feature model on the full GTZAN feature table, artist-filtered split, trained on
    train + valid (640 tracks) and tested on the 290 test tracks;
(b) optionally (``--deep``, slow on a laptop) every spectrogram model on the 100 shared clips,
    grouped k-fold over blocks of neighbouring IDs (neighbours share artists).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from genre.models import get_model_spec, model_names
from genre.paths import REPO_ROOT, shared_gtzan_dir
from genre.training.config import RunConfig
from genre.training.experiment import unregistered_run

FEATURE_TABLE = REPO_ROOT / "data" / "gtzan" / "features_30_sec.csv"
DEEP_DEFAULTS = {
    "epochs": 15, "folds": 5, "crops_per_track": 6, "batch_size": 32, "lr": 2e-3, "threads": 1,
}  # fmt: skip
# the zoo's spectrogram models, cheapest first (the shipped baseline_cnn has its own card)
DEEP_ZOO = (
    "linear_mel", "simple_cnn", "cnn_mlp", "lstm_mfcc", "complex_cnn", "crnn", "bigru",
    "prcnn", "resnet18_bigru",
    "musicnn_genre",  # the pretrained backbone's head, for comparison (its options differ)
)  # fmt: skip
# Shown in the claims column for rows that are not trained like the others.
ROW_NOTES = {
    "musicnn_genre": "pretrained on the Million Song Dataset; only the head trains (train time "
    "excludes the one-off embedding pass, ~1.6 s per clip)",
}
# The published claims of the project's seed notebooks, next to the closest zoo model.
SEED_CLAIMS = {
    "simple_cnn": ("S0 CNN", 0.705),
    "lstm_mfcc": ("S1 LSTM", 0.9178),
    "resnet18_bigru": ("S2 ResNet18+BiGRU", 0.90),
    "complex_cnn": ("S3 complex CNN", 0.625),
    "cnn_mlp": ("S4 CNN", 0.79),
}
SHARED_CLIPS = (
    "the 100 shared clips (IDs 00000–00009 of each genre; jazz has 00011 and 00012 in place of "
    "00003 and 00009)"
)


Log = Callable[[str], None]


def feature_models() -> list[str]:
    return [n for n in model_names() if get_model_spec(n).input == "features"]


def deep_models() -> list[str]:
    known = set(model_names())
    return [n for n in DEEP_ZOO if n in known]


def _one(config: RunConfig, log: Log) -> dict[str, Any]:
    started = time.monotonic()
    metrics = unregistered_run(config, log)[0]
    metrics["wall_seconds"] = time.monotonic() - started
    keep = (
        "test_accuracy", "macro_precision", "macro_recall", "macro_f1", "kfold_mean",
        "kfold_std", "fold_accuracies", "n_test", "n_train", "weights", "train_seconds",
        "wall_seconds", "inference_ms_per_track", "windows_per_second", "tuned_params",
        "n_valid",  # feature models train on train + valid: n_train alone would understate it
    )  # fmt: skip
    return {"model": config.model, **{k: metrics[k] for k in keep if k in metrics}}


def feature_benchmark(
    table: Path = FEATURE_TABLE, models: Sequence[str] | None = None, log: Log = print
) -> list[dict[str, Any]]:
    rows = []
    for name in models or feature_models():
        log(f"feature model {name}")
        rows.append(_one(RunConfig(model=name, features=str(table), split="filtered"), log))
        log(f"  {name}: {rows[-1]['test_accuracy']:.1%}")
    return rows


def deep_benchmark(
    audio: Path | None = None,
    models: Sequence[str] | None = None,
    log: Log = print,
    on_result: Callable[[list[dict[str, Any]]], None] | None = None,
    **overrides: Any,
) -> list[dict[str, Any]]:
    audio = audio or shared_gtzan_dir() / "audio"
    settings = {**DEEP_DEFAULTS, **overrides}
    rows = []
    for name in models or deep_models():
        log(f"deep model {name} (grouped {settings['folds']}-fold, {settings['epochs']} epochs)")
        config = RunConfig(model=name, dataset=str(audio), split="kfold", **settings)
        # Each row says when and under what load it was measured: a subset re-run merges
        # into the saved table, and training times on shared cores move with the load.
        measured_at, load = time.strftime("%Y-%m-%dT%H:%M:%S"), round(os.getloadavg()[0], 2)
        row = {**_one(config, log), "settings": settings}
        rows.append({**row, "measured_at": measured_at, "load_average": load})
        log(f"  {name}: {rows[-1]['kfold_mean']:.1%} ± {rows[-1]['kfold_std']:.1%}")
        if on_result:
            on_result(rows)  # partial results survive an interrupted run
    return rows


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def why_seeds_differ(features: list[dict[str, Any]]) -> str:
    """One line on why the seeds' figures differ, quoting table (a)'s best honest result."""
    if features:
        best = max(features, key=lambda r: r["test_accuracy"])
        reach = f"reach at best {_pct(best['test_accuracy'])} ({best['model']}, table a)"
    else:
        reach = "reach far less (table a)"
    return (
        "Why the seeds' figures differ: they split GTZAN's 3-s windows (or tracks) at random, "
        "so windows of one track and tracks of one artist sat on both sides of the split, which "
        "measures recall of recordings. Kept apart by artist, the whole dataset's features "
        f"{reach}; the 100 clips (table b) hold only a few artists per genre, so even grouped "
        "folds share artists and those numbers rank models rather than measure genre."
    )


def merge_deep(
    previous: list[dict[str, Any]] | None, fresh: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The saved table (b) with the freshly measured models' rows replaced or added."""
    replaced = {row["model"] for row in fresh}
    return [row for row in previous or [] if row["model"] not in replaced] + fresh


def _when(row: dict[str, Any], deep_started: str | None) -> str:
    stamp = row.get("measured_at") or deep_started
    day_time = stamp.replace("T", " ")[5:16] if stamp else "—"
    load = row.get("load_average")
    return f"{day_time} ({load:.1f})" if load is not None else day_time


def deep_provenance(deep_started: str | None) -> str:
    """Says plainly that table (b) is saved `--deep` results, and from when."""
    when = f"started {deep_started.replace('T', ' ')}" if deep_started else "date not recorded"
    return (
        f"Table (b) is from `--deep` runs (the last full one {when}), saved in "
        "bench/results/benchmark.json; each row says when it was measured and the load average "
        "then (train times grow with it on 2 shared cores). `python -m genre benchmark` without "
        "`--deep` re-runs only table (a) and copies (b) from that file; `--deep --models …` "
        "re-measures those rows and keeps the others."
    )


def markdown(
    features: list[dict[str, Any]],
    deep: list[dict[str, Any]] | None,
    deep_started: str | None = None,
) -> str:
    lines = [
        "**(a) Feature models** — full GTZAN feature table (1000 tracks), artist-filtered "
        "split: trained on train + valid (640 tracks), tested on the 290 test tracks.",
        "",
        "| model | test accuracy | macro F1 | fit time |",
        "|---|---:|---:|---:|",
    ]
    for row in sorted(features, key=lambda r: -r["test_accuracy"]):
        lines.append(
            f"| {row['model']} | {_pct(row['test_accuracy'])} | {row['macro_f1']:.3f} | "
            f"{row['train_seconds']:.1f} s |"
        )
    total = sum(r["wall_seconds"] for r in features)
    lines += [
        "",
        f"All feature models together: {total:.0f} s. Published anchor: MFCC + SVM ≈ 53 %.",
    ]
    if deep:
        settings = deep[0]["settings"]
        lines += [
            "",
            f"**(b) Spectrogram models** — {SHARED_CLIPS}, grouped {settings['folds']}-fold "
            "cross-validation (blocks of neighbouring IDs held out; every clip tested once), "
            "3-s log-mel windows, "
            f"{settings['epochs']} epochs × {settings['crops_per_track']} random crops per clip, "
            "track-level voting, one CPU thread. Optimistic: artists recur across folds.",
            "",
            deep_provenance(deep_started),
            "",
            "| model | accuracy (mean ± std over folds) | macro F1 | weights | train time "
            "(5 folds) | windows/s | ms per track | seed's claim | measured (load) |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for row in sorted(deep, key=lambda r: -r["kfold_mean"]):
            seed = SEED_CLAIMS.get(row["model"])
            claim = f"{seed[0]}: {_pct(seed[1])}" if seed else ROW_NOTES.get(row["model"], "")
            minutes = row["train_seconds"] / 60
            # A head on cached embeddings trains on vectors, not spectrogram windows.
            speed = "—" if row["model"] in ROW_NOTES else f"{row['windows_per_second']:.0f}"
            lines.append(
                f"| {row['model']} | {_pct(row['kfold_mean'])} ± {_pct(row['kfold_std'])} | "
                f"{row['macro_f1']:.3f} | {row['weights']:,} | {minutes:.1f} min | "
                f"{speed} | {row['inference_ms_per_track']:.0f} | "
                f"{claim} | {_when(row, deep_started)} |"
            )
        lines += ["", why_seeds_differ(features)]
    return "\n".join(lines)
