"""One training run from config to saved results: data, splits, training, metrics, files.

The model's trainer (:mod:`~genre.training.trainers_registry`) is cross-validated over the
splits and saves into the run folder its ``checkpoint`` files (``model.safetensors`` +
``model.json`` for torch, ``model.pkl`` for scikit-learn) and, for torch models on the log-mel
front-end and the musicnn head, a ``bundle/`` the Classify page can use; this module adds
``metrics.json``, ``confusion.csv`` and ``predictions.csv``.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genre.errors import DatasetError, GenreError
from genre.models import ModelSpec, get_model_spec
from genre.splits import (
    Split,
    coverage_warnings,
    grouped_kfold,
    make_splits,
    recommended_split,
)
from genre.training.config import RunConfig
from genre.training.data import (
    TrackData,
    load_audio_dataset,
    load_embedding_dataset,
    load_feature_table,
)
from genre.training.head_loop import recipe as head_recipe
from genre.training.metrics import classification_report, summarise_folds
from genre.training.reporting import LineReporter, Reporter
from genre.training.torch_trainer import frontend_of
from genre.training.trainers import TrainResult, cross_validate
from genre.training.trainers_registry import trainer_for
from runs.files import write_json

SPECTROGRAM_INPUTS = ("mel", "stft", "mfcc")


def check_compatible(spec: ModelSpec, config: RunConfig) -> None:
    if spec.input == "features" and config.features is None:
        raise GenreError(
            f"Model '{spec.name}' reads a per-track feature table; give --features CSV."
        )
    if spec.input in SPECTROGRAM_INPUTS and config.dataset is None:
        raise GenreError(f"Model '{spec.name}' reads spectrograms of audio; give --dataset FOLDER.")
    if spec.input == "embedding" and config.dataset is None:
        raise GenreError(
            f"Model '{spec.name}' listens to audio through a pretrained backbone; "
            "give --dataset FOLDER."
        )


def load_data(config: RunConfig, reporter: Reporter) -> TrackData:
    data = _load_data(config, reporter)
    return with_classes(data, config.class_names) if config.class_names else data


def with_classes(data: TrackData, classes: list[str]) -> TrackData:
    """``data`` labelled with ``classes`` (in that order), which must name all its classes."""
    missing = [c for c in data.labels if c not in classes]
    if missing or len(set(classes)) != len(classes):
        raise DatasetError(
            f"The classes {', '.join(classes)} must be distinct and include every class of the "
            f"data; missing: {', '.join(missing) or 'none'}."
        )
    y = np.asarray([classes.index(data.labels[i]) for i in data.y], dtype=data.y.dtype)
    return replace(data, labels=list(classes), y=y)


def _load_data(config: RunConfig, reporter: Reporter) -> TrackData:
    if config.features is not None:
        reporter.phase("reading the feature table")
        return load_feature_table(config.features)
    embedded = get_model_spec(config.model).input == "embedding"
    what = "musicnn embeddings" if embedded else f"{config.frontend} spectrograms"
    reporter.phase(f"computing {what} (cached)")

    def progress(done: int, total: int) -> None:
        reporter.checkpoint()  # between files: for a cancel whose raise C code swallowed
        reporter.record_step(0, done, total, None)
        if done % 50 == 0 or done == total:
            reporter.log(f"{what} {done}/{total}")

    if embedded:
        return load_embedding_dataset(
            config.dataset or "", head_recipe(config).window_features, progress
        )
    return load_audio_dataset(config.dataset or "", frontend_of(config), progress)


def run_splits(
    config: RunConfig,
    keys: list[str],
    labels: list[str],
    numbers: list[int],
    with_valid: bool,
) -> list[Split]:
    """The run's splits; a k-fold with ``fold_block`` holds out blocks of that many IDs."""
    if config.split == "kfold" and config.fold_block:
        return blocked_kfold(numbers, config.folds, config.fold_block, with_valid=with_valid)
    return make_splits(
        config.split,  # type: ignore[arg-type]
        keys=keys, labels=labels, numbers=numbers, folds=config.folds,
        with_valid=with_valid, seed=config.seed,
    )  # fmt: skip


def blocked_kfold(
    numbers: list[int], n_folds: int, block: int, *, with_valid: bool = False
) -> list[Split]:
    """Grouped k-fold over blocks of ``block`` neighbouring IDs (:func:`grouped_kfold`'s
    folds, in its order); ``with_valid`` holds out the next fold for validation."""
    tests = [test for _, test in grouped_kfold(numbers, n_folds, block)]
    if len(tests) < 2 or (with_valid and len(tests) < 3):
        raise DatasetError(
            f"The tracks' IDs fall into too few blocks of {block} for grouped cross-validation; "
            "use a smaller block or the hold-out split."
        )
    splits = []
    for k, test in enumerate(tests):
        valid = tests[(k + 1) % len(tests)] if with_valid else np.zeros(0, dtype=np.int64)
        train = np.setdiff1d(np.arange(len(numbers)), np.concatenate([test, valid]))
        splits.append(Split(f"fold {k + 1}/{len(tests)}", train, np.sort(valid), test))
    return splits


def plan_splits(spec: ModelSpec, config: RunConfig, data: TrackData) -> list[Split]:
    # Feature models need no validation set; in k-fold a validation fold costs training
    # tracks, so it is held out only when early stopping asks for it.
    with_valid = spec.family == "torch" and (config.split != "kfold" or config.patience > 0)
    splits = run_splits(config, data.keys, data.track_labels, data.numbers.tolist(), with_valid)
    for split in splits:
        if not len(split.train) or not len(split.test):
            raise DatasetError(
                f"The {config.split} split leaves no training or no test tracks in this data."
            )
    return splits


def run_training(config: RunConfig, reporter: Reporter, folder: Path) -> dict[str, Any]:
    """Train and evaluate; writes the run's files into ``folder``; returns its metrics."""
    started = time.monotonic()
    if config.threads:
        torch.set_num_threads(config.threads)
    spec = get_model_spec(config.model)
    check_compatible(spec, config)
    data = load_data(config, reporter)
    if data.skipped:
        reporter.log(f"skipped {len(data.skipped)} file(s): " + "; ".join(
            f"{Path(p).name} ({why})" for p, why in data.skipped[:10]
        ))  # fmt: skip
    splits = plan_splits(spec, config, data)
    for warning in coverage_warnings(splits, data.track_labels):
        reporter.log(f"warning: {warning}")
    reporter.log(
        f"{data.n_tracks} tracks in {len(data.labels)} classes; split {config.split}: "
        + ", ".join(f"{k} {v}" for k, v in splits[0].sizes.items())
        + (f" (fold 1 of {len(splits)})" if len(splits) > 1 else "")
    )
    trainer = trainer_for(spec)(spec, config, data, splits, reporter, folder)
    reporter.plan(len(splits) + config.final_fit, trainer.epochs)  # the final fit: one more
    result = trainer.finish(cross_validate(trainer, splits, reporter))
    metrics = classification_report(result.y_true, result.y_pred, data.labels)
    if len(result.folds) > 1:
        metrics.update(summarise_folds(result.fold_accuracies))
    metrics.update(result.metrics())
    metrics.update(
        fold_accuracies=result.fold_accuracies,
        split=config.split,
        n_tracks=data.n_tracks,
        n_train=len(splits[0].train),
        n_valid=len(splits[0].valid),
        skipped=[[p, why] for p, why in data.skipped],
        cache_hits=data.cache_hits,
        wall_seconds=time.monotonic() - started,
    )
    _write_tables(folder, data, result, metrics)
    return metrics


def unregistered_run(
    config: RunConfig, say: Callable[[str], None], keep: Callable[[Path], Any] | None = None
) -> tuple[dict[str, Any], Any]:
    """Train ``config`` as :func:`run_training` does, in a temporary folder and outside the run
    registry (a step of another command, not a run of its own), logging to ``say``: its
    metrics, and what ``keep`` read from the run folder before the folder went."""
    with tempfile.TemporaryDirectory(prefix="genre-run-") as folder:
        metrics = run_training(config, LineReporter(say), Path(folder))
        kept = keep(Path(folder)) if keep is not None else None
    return metrics, kept


def _write_tables(
    folder: Path,
    data: TrackData,
    result: TrainResult,
    metrics: dict[str, Any],
) -> None:
    with open(folder / "confusion.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["true \\ predicted", *data.labels])
        for label, row in zip(data.labels, metrics["confusion"], strict=True):
            writer.writerow([label, *row])
    with open(folder / "predictions.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["track", "true", "predicted"])
        for t, truth, guess in zip(result.tested, result.y_true, result.y_pred, strict=True):
            writer.writerow([data.names[t], data.labels[truth], data.labels[guess]])
    write_json(folder / "metrics.json", metrics)


def summary_line(run_id: str, config: RunConfig, metrics: dict[str, Any]) -> str:
    """The JSON object the CLI prints last with ``--json``."""
    keys = (
        "test_accuracy", "macro_precision", "macro_recall", "macro_f1", "kfold_mean",
        "kfold_std", "n_test", "weights", "train_seconds", "inference_ms_per_track",
        "windows_per_second", "bundle",
    )  # fmt: skip
    out = {"run_id": run_id, "model": config.model, "split": config.split}
    out.update({k: metrics[k] for k in keys if k in metrics})
    return json.dumps(out)


@dataclass
class SourceTracks:
    """What a data source holds, track by track (cheap: no audio is decoded)."""

    keys: list[str]
    labels: list[str]
    numbers: list[int]
    note: str  # one line for the user
    genres: list[str] = field(default_factory=list)  # sorted class names
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file or row, why)
    empty_classes: list[str] = field(default_factory=list)  # class folders without audio


def source_tracks(*, features: str | None = None, dataset: str | None = None) -> SourceTracks:
    """List the tracks of a feature table or an audio folder; raises :class:`GenreError`."""
    from genre.datasets import discover

    if features is not None:
        data = load_feature_table(features)
        return SourceTracks(
            data.keys, data.track_labels, data.numbers.tolist(),
            f"{data.n_tracks} tracks in {len(data.labels)} classes", list(data.labels),
            list(data.skipped),
        )  # fmt: skip
    found = discover(dataset or "")
    if len(found.genres) < 2:
        raise DatasetError(f"{found.root} has only one class; training needs at least two.")
    note = f"{len(found.tracks)} tracks in {len(found.genres)} classes ({found.layout})"
    if found.skipped:
        note += f"; {len(found.skipped)} file(s) will be skipped"
    if found.empty_classes:
        note += "; empty class folder(s): " + ", ".join(found.empty_classes)
    return SourceTracks(
        [t.gtzan_key for t in found.tracks], [t.genre for t in found.tracks],
        [t.number for t in found.tracks], note, found.genres,
        [(str(p), why) for p, why in found.skipped], found.empty_classes,
    )  # fmt: skip


def suggest_split(
    *, features: str | None = None, dataset: str | None = None, folds: int = 5
) -> tuple[str, str]:
    """(split kind, why) for a data source; raises :class:`GenreError` if it cannot be read."""
    tracks = source_tracks(features=features, dataset=dataset)
    return recommended_split(tracks.keys, tracks.labels, tracks.numbers, folds)


def preflight(config: RunConfig) -> tuple[str, list[str]]:
    """Check data source, model and split before launching: a line about the data, warnings.

    Raises :class:`GenreError` (with a message for the user) when the run could not work.
    """
    spec = get_model_spec(config.model)
    check_compatible(spec, config)
    tracks = source_tracks(features=config.features, dataset=config.dataset)
    with_valid = spec.family == "torch" and (config.split != "kfold" or config.patience > 0)
    splits = run_splits(config, tracks.keys, tracks.labels, tracks.numbers, with_valid)
    sizes = splits[0].sizes
    if spec.family == "sklearn":  # feature models train on train + valid
        sizes = {"train": sizes["train"] + sizes["valid"], "test": sizes["test"]}
    parts = ", ".join(f"{k} {v}" for k, v in sizes.items() if v)
    folds = f" (fold 1 of {len(splits)})" if len(splits) > 1 else ""
    return f"{tracks.note}; split: {parts}{folds}", coverage_warnings(splits, tracks.labels)
