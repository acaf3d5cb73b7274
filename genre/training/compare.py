"""Plain tables for comparing runs: what the Training page shows, without Streamlit."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from genre.models import get_model_spec, model_names
from genre.training.config import RunConfig
from runs.store import Run

FEATURE_SOURCE, AUDIO_SOURCE = "features", "audio"
DEFAULT_MODELS = {FEATURE_SOURCE: ["logreg"], AUDIO_SOURCE: ["simple_cnn"]}  # quick, solid


def models_for(source: str) -> list[str]:
    """Trainable models: feature models for tables; spectrogram and backbone-head models for
    audio."""
    wanted = ("features",) if source == FEATURE_SOURCE else ("mel", "stft", "embedding")
    return [n for n in model_names() if get_model_spec(n).input in wanted]


def describe_model(name: str) -> str:
    spec = get_model_spec(name)
    return f"{name}: {spec.description}"


def _short_source(path: str) -> str:
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def comparison_table(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per finished run; percentages as 0–100 numbers so the table sorts right."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        if run.status != "finished":
            continue
        m = run.metrics
        config = run.config
        rows.append(
            {
                "run": run.id,
                "model": run.model,
                "input": m.get("input", ""),
                "split": run.split,
                "data": _short_source(run.dataset),
                "accuracy %": 100 * m.get("test_accuracy", 0.0),
                "macro precision %": 100 * m.get("macro_precision", 0.0),
                "macro recall %": 100 * m.get("macro_recall", 0.0),
                "macro F1 %": 100 * m.get("macro_f1", 0.0),
                # numbers (NaN without k-fold), so the columns sort as numbers
                "k-fold mean %": _percent(m.get("kfold_mean")),
                "k-fold std %": _percent(m.get("kfold_std")),
                "test tracks": m.get("n_test"),
                "weights": m.get("weights"),
                "training s": m.get("train_seconds"),
                "ms per track": m.get("inference_ms_per_track"),
                "windows/s": m.get("windows_per_second"),
                "epochs": config.get("epochs") if m.get("family") == "torch" else None,
                "finished": time.strftime("%m-%d %H:%M", time.localtime(run.ended or run.created)),
                "promotable": bool(m.get("bundle")),
            }
        )
    return pd.DataFrame(rows)


def _percent(fraction: float | None) -> float:
    return float("nan") if fraction is None else 100 * fraction


def best_run_per_model(table: pd.DataFrame, limit: int = 3) -> list[str]:
    """Run ids of each model's most accurate run, best model first, at most ``limit``: what
    the detailed comparison opens with (two runs of one model compare nothing)."""
    if table.empty:
        return []
    ranked = table.sort_values("accuracy %", ascending=False, kind="stable")
    return list(ranked.drop_duplicates("model").run[:limit])


def run_label(run: Run) -> str:
    accuracy = run.metrics.get("test_accuracy")
    score = f" · {accuracy:.0%}" if accuracy is not None else ""
    split = f" · {run.split}" if run.split else ""  # GAN runs have no split
    return f"{run.model}{split}{score} · {run.id[-6:]}"


def per_genre_table(metrics: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {
            "genre": genre,
            "precision %": 100 * values["precision"],
            "recall %": 100 * values["recall"],
            "F1 %": 100 * values["f1"],
            "tracks": values["support"],
        }
        for genre, values in metrics.get("per_genre", {}).items()
    ]
    return pd.DataFrame(rows)


def curves_frame(epochs: list[dict[str, Any]]) -> pd.DataFrame:
    """Long format: epoch, fold, metric ('loss'|'accuracy'), side ('train'|'validation'), value."""
    rows = []
    for row in epochs:
        for side, loss, acc in (
            ("train", row["train_loss"], row["train_acc"]),
            ("validation", row["val_loss"], row["val_acc"]),
        ):
            if loss is not None:
                rows.append({**_at(row), "metric": "loss", "side": side, "value": loss})
            if acc is not None:
                rows.append({**_at(row), "metric": "accuracy", "side": side, "value": acc})
    return pd.DataFrame(rows, columns=["epoch", "fold", "metric", "side", "value"])


def _at(row: dict[str, Any]) -> dict[str, Any]:
    return {"epoch": row["epoch"], "fold": row["fold"]}


def progress_text(run: Run) -> str:
    parts = [run.phase or run.status]
    if run.folds > 1 and run.fold:
        parts.append(f"fold {run.fold}/{run.folds}")
    if run.epoch and run.epochs > 1:
        parts.append(f"epoch {run.epoch}/{run.epochs}")
    if run.steps:
        parts.append(f"step {run.step}/{run.steps}")
    if run.eta_s is not None:
        minutes, seconds = divmod(int(run.eta_s), 60)
        parts.append(
            f"about {minutes} min {seconds:02d} s left" if minutes else f"{seconds} s left"
        )
    return " · ".join(parts)


def build_config(source: str, path: str, model: str, **settings: Any) -> RunConfig:
    """A validated config for one model of the launch form (raises GenreError)."""
    data = {"features": path} if source == FEATURE_SOURCE else {"dataset": path}
    return RunConfig(model=model, **data, **settings)
