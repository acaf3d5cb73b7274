"""One training run from config to saved results: data, splits, training, metrics, files.

The run folder receives ``checkpoint`` files (``model.safetensors`` + ``model.json`` for torch,
``model.pkl`` for scikit-learn), ``metrics.json``, ``confusion.csv``, ``predictions.csv`` and,
for torch models on the log-mel front-end and the musicnn head (:mod:`head_loop`), a
``bundle/`` the Classify page can use.
"""

from __future__ import annotations

import csv
import json
import pickle
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from genre.bundle import save_bundle
from genre.errors import DatasetError, GenreError
from genre.models import ModelSpec, get_model_spec
from genre.runs import write_json
from genre.splits import Split, coverage_warnings, make_splits, recommended_split
from genre.training.config import RunConfig
from genre.training.data import (
    TrackData,
    load_audio_dataset,
    load_embedding_dataset,
    load_feature_table,
)
from genre.training.frontend import Frontend, make_frontend
from genre.training.head_loop import recipe as head_recipe
from genre.training.head_loop import run_head
from genre.training.metrics import classification_report, summarise_folds
from genre.training.reporting import Reporter
from genre.training.resume import FoldRunner
from genre.training.sklearn_loop import train_sklearn
from genre.training.torch_loop import (
    count_weights,
    evaluate_tracks,
    fit_length,
    train_torch,
)
from genre.verdict import thresholds_from_held_out

SPECTROGRAM_INPUTS = ("mel", "stft", "mfcc")


def frontend_of(config: RunConfig) -> Frontend:
    return make_frontend(
        config.frontend, config.sample_rate, config.n_fft, config.hop, config.n_mels
    )


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
    if config.features is not None:
        reporter.phase("reading the feature table")
        return load_feature_table(config.features)
    embedded = get_model_spec(config.model).input == "embedding"
    what = "musicnn embeddings" if embedded else f"{config.frontend} spectrograms"
    reporter.phase(f"computing {what} (cached)")

    def progress(done: int, total: int) -> None:
        reporter.record_step(0, done, total, None)
        if done % 50 == 0 or done == total:
            reporter.log(f"{what} {done}/{total}")

    if embedded:
        return load_embedding_dataset(config.dataset or "", head_recipe(config).features, progress)
    return load_audio_dataset(config.dataset or "", frontend_of(config), progress)


def plan_splits(spec: ModelSpec, config: RunConfig, data: TrackData) -> list[Split]:
    # Feature models need no validation set; in k-fold a validation fold costs training
    # tracks, so it is held out only when early stopping asks for it.
    with_valid = spec.family == "torch" and (config.split != "kfold" or config.patience > 0)
    splits = make_splits(
        config.split,  # type: ignore[arg-type]
        keys=data.keys,
        labels=data.track_labels,
        numbers=data.numbers.tolist(),
        folds=config.folds,
        with_valid=with_valid,
        seed=config.seed,
    )
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
    reporter.plan(len(splits), _epochs(spec, config))
    reporter.log(
        f"{data.n_tracks} tracks in {len(data.labels)} classes; split {config.split}: "
        + ", ".join(f"{k} {v}" for k, v in splits[0].sizes.items())
        + (f" (fold 1 of {len(splits)})" if len(splits) > 1 else "")
    )
    if spec.input == "embedding":
        outcome = run_head(spec, config, data, splits, reporter, folder)
    elif spec.family == "torch":
        outcome = _run_torch(spec, config, data, splits, reporter, folder)
    else:
        outcome = _run_sklearn(spec, config, data, splits, reporter, folder)
    y_true, y_pred, tested = outcome.pop("y_true"), outcome.pop("y_pred"), outcome.pop("tested")
    metrics = classification_report(y_true, y_pred, data.labels)
    fold_acc = outcome.pop("fold_accuracies")
    if len(fold_acc) > 1:
        metrics.update(summarise_folds(fold_acc))
    metrics.update(outcome)
    metrics.update(
        fold_accuracies=fold_acc,
        split=config.split,
        n_tracks=data.n_tracks,
        n_train=len(splits[0].train),
        n_valid=len(splits[0].valid),
        skipped=[[p, why] for p, why in data.skipped],
        cache_hits=data.cache_hits,
        wall_seconds=time.monotonic() - started,
    )
    _write_tables(folder, data, tested, y_true, y_pred, metrics)
    return metrics


def _epochs(spec: ModelSpec, config: RunConfig) -> int:
    if spec.input == "embedding":
        return head_recipe(config).epochs
    return config.epochs if spec.family == "torch" else 1


def _run_torch(
    spec: ModelSpec,
    config: RunConfig,
    data: TrackData,
    splits: list[Split],
    reporter: Reporter,
    folder: Path,
) -> dict[str, Any]:
    frontend = frontend_of(config)
    frames = frontend.frames_for(config.window_s)
    hop = frontend.hop_frames(config.hop_s)
    if frames < 8:
        raise GenreError("The window is too short: it must span at least 8 spectrogram frames.")
    specs = [fit_length(s, frames) for s in data.spectrograms or []]
    params = {"n_mels": frontend.bins, "n_classes": len(data.labels)}
    y_true, y_pred, tested, fold_acc = [], [], [], []
    train_seconds = windows = 0.0
    inference_ms: list[float] = []
    held_out_probs: list[np.ndarray] = []  # test tracks' probabilities, for verdict thresholds
    model = None
    folds = FoldRunner(folder, config, reporter)  # epoch checkpoints: a killed run resumes
    for k, split in enumerate(splits, 1):
        reporter.fold_started(k)
        model = spec.build(**params)
        result, probs, ms = folds.fold(
            k, model,
            partial(train_torch, model, specs, data.y, split.train, split.valid, config, frames,
                    hop, reporter, k),
            lambda model=model, split=split: evaluate_tracks(
                model, specs, split.test, None, frames, hop)[0],
        )  # fmt: skip
        train_seconds += result.train_seconds
        windows += result.windows_seen
        inference_ms.append(ms)
        predicted = probs.argmax(axis=1)
        held_out_probs.append(probs)
        fold_acc.append(float(np.mean(predicted == data.y[split.test])))
        if len(splits) > 1:
            reporter.log(f"fold {k}: test accuracy {fold_acc[-1]:.1%}")
        y_true += data.y[split.test].tolist()
        y_pred += predicted.tolist()
        tested += split.test.tolist()
    assert model is not None
    _save_torch(folder, model, spec, params)
    evidence = thresholds_from_held_out(np.concatenate(held_out_probs), np.asarray(y_true))
    outcome: dict[str, Any] = {
        "y_true": np.asarray(y_true), "y_pred": np.asarray(y_pred), "tested": tested,
        "fold_accuracies": fold_acc, "family": "torch", "input": config.frontend,
        "weights": count_weights(model), "train_seconds": train_seconds,
        "inference_ms_per_track": float(np.mean(inference_ms)),
        "windows_per_second": windows / train_seconds if train_seconds else 0.0,
        "best_epoch": result.best_epoch, "epochs_run": len(result.history),
        "checkpoint_from": f"fold {len(splits)}" if len(splits) > 1 else "the single split",
    }  # fmt: skip
    if frontend.servable:
        bundle_dir = folder / "bundle"
        accuracy = float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
        meta = _bundle_meta(folder.name, spec, config, frontend, params, data, splits, accuracy)
        meta["verdict"] = evidence.thresholds.to_json()  # the Classify page's "X or Y" etc.
        meta["metrics"]["verdict_evidence"] = {"value": evidence.to_json(), "how": "genre.verdict"}
        save_bundle(
            bundle_dir,
            model=model,
            meta=meta,
            model_card=_model_card(spec, config, data, accuracy, splits)
            + "\n"
            + evidence.describe()
            + "\n",
        )
        outcome["bundle"] = str(bundle_dir)
    return outcome


def _run_sklearn(
    spec: ModelSpec,
    config: RunConfig,
    data: TrackData,
    splits: list[Split],
    reporter: Reporter,
    folder: Path,
) -> dict[str, Any]:
    y_true, y_pred, tested, fold_acc = [], [], [], []
    train_seconds, inference_ms, rows_per_s = 0.0, [], []
    model = None
    for k, split in enumerate(splits, 1):
        reporter.fold_started(k)
        reporter.phase(
            f"fitting {spec.name}" + (f" (fold {k}/{len(splits)})" if len(splits) > 1 else "")
        )
        train = np.concatenate([split.train, split.valid])
        result = train_sklearn(spec.build(), data, train, split.test)
        model = result.model
        predicted = result.test_probs.argmax(axis=1)
        fold_acc.append(float(np.mean(predicted == data.y[split.test])))
        train_seconds += result.train_seconds
        inference_ms.append(result.inference_ms_per_track)
        rows_per_s.append(result.rows_per_second)
        y_true += data.y[split.test].tolist()
        y_pred += predicted.tolist()
        tested += split.test.tolist()
        reporter.step(1, 1, 1, force=True)
    with open(folder / "model.pkl", "wb") as out:
        pickle.dump(model, out)
    best = getattr(model, "best_params_", None)
    return {
        "y_true": np.asarray(y_true), "y_pred": np.asarray(y_pred), "tested": tested,
        "fold_accuracies": fold_acc, "family": "sklearn", "input": "features",
        "weights": None, "train_seconds": train_seconds,
        "inference_ms_per_track": float(np.mean(inference_ms)),
        "rows_per_second": float(np.mean(rows_per_s)),
        "tuned_params": {k: _plain(v) for k, v in best.items()} if best else None,
        "n_features": len(data.feature_names),
    }  # fmt: skip


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


def _save_torch(folder: Path, model: torch.nn.Module, spec: ModelSpec, params: dict) -> None:
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    write_json(folder / "model.json", {"kind": spec.name, "params": params})


def _bundle_meta(
    run_id: str,
    spec: ModelSpec,
    config: RunConfig,
    frontend: Frontend,
    params: dict,
    data: TrackData,
    splits: list[Split],
    accuracy: float,
) -> dict[str, Any]:
    last = splits[-1]
    return {
        "name": f"{spec.name}-{run_id}",
        "title": f"{spec.name} (training run {run_id})",
        "description": spec.description,
        "kind": spec.name,
        "params": params,
        "labels": data.labels,
        "sample_rate": frontend.spec.sample_rate,
        "frontend": frontend.spec.to_dict(),
        "window_s": config.window_s,
        "hop_s": config.hop_s,
        "trained_on": {
            "dataset": data.source,
            "files": [data.keys[i] for i in last.train],
            "split": config.split,
        },
        "metrics": {
            "test_accuracy": {
                "value": round(accuracy, 4),
                "how": f"track-level, {config.split} split, tracks never seen in training",
            }
        },
        "training": config.to_dict(),
        "licence": "Weights: trained by the user in Genre Studio on their own data.",
    }


def _model_card(
    spec: ModelSpec, config: RunConfig, data: TrackData, accuracy: float, splits: list[Split]
) -> str:
    return (
        f"# {spec.name}, trained in Genre Studio\n\n{spec.description}\n\n"
        f"Trained on {len(splits[-1].train)} tracks of {data.source} ({len(data.labels)} classes: "
        f"{', '.join(data.labels)}), {config.epochs} epochs at most, {config.split} split.\n"
        f"Track-level accuracy on held-out tracks: **{accuracy:.1%}**. Small datasets give "
        "optimistic numbers for music by artists not in the training data.\n"
    )


def _write_tables(
    folder: Path,
    data: TrackData,
    tested: list[int],
    y_true: np.ndarray,
    y_pred: np.ndarray,
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
        for t, truth, guess in zip(tested, y_true, y_pred, strict=True):
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


def source_tracks(*, features: str | None = None, dataset: str | None = None) -> SourceTracks:
    """List the tracks of a feature table or an audio folder; raises :class:`GenreError`."""
    from genre.datasets import discover

    if features is not None:
        data = load_feature_table(features)
        return SourceTracks(
            data.keys, data.track_labels, data.numbers.tolist(),
            f"{data.n_tracks} tracks in {len(data.labels)} classes",
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
        [t.number for t in found.tracks], note,
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
    splits = make_splits(
        config.split,  # type: ignore[arg-type]
        keys=tracks.keys, labels=tracks.labels, numbers=tracks.numbers, folds=config.folds,
        seed=config.seed,
        with_valid=spec.family == "torch" and (config.split != "kfold" or config.patience > 0),
    )  # fmt: skip
    sizes = splits[0].sizes
    if spec.family == "sklearn":  # feature models train on train + valid
        sizes = {"train": sizes["train"] + sizes["valid"], "test": sizes["test"]}
    parts = ", ".join(f"{k} {v}" for k, v in sizes.items() if v)
    folds = f" (fold 1 of {len(splits)})" if len(splits) > 1 else ""
    return f"{tracks.note}; split: {parts}{folds}", coverage_warnings(splits, tracks.labels)
