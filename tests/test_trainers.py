"""The trainers and their one cross-validation loop, on tiny real data.

Each trainer's folds must say exactly what a direct fit of the same model on the same split
says: the loop adds bookkeeping (numbering, logging, pooling), never a different model.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from genre.models import get_model_spec
from genre.training.config import RunConfig
from genre.training.data import load_audio_dataset, load_embedding_dataset, load_feature_table
from genre.training.experiment import plan_splits
from genre.training.head_loop import HeadTrainer, recipe
from genre.training.musicnn_head import fit_head, head_track_probs
from genre.training.reporting import Reporter
from genre.training.sklearn_loop import train_sklearn
from genre.training.sklearn_trainer import SklearnTrainer
from genre.training.torch_loop import evaluate_tracks, fit_length, train_torch
from genre.training.torch_trainer import TorchTrainer, frontend_of
from genre.training.trainers import FoldResult, TrainResult, cross_validate
from genre.training.trainers_registry import TRAINERS, trainer_for, trainer_kind
from tests.test_training_datasets import write_tiny_dataset
from tests.test_training_jobs import TINY, few_real_clips, tiny_features


def test_cross_validate_numbers_pools_and_logs_the_folds(tmp_path: Path) -> None:
    table = tiny_features(tmp_path / "features.csv")
    config = RunConfig(model="logreg", features=str(table), split="kfold", folds=3)
    spec = get_model_spec("logreg")
    data = load_feature_table(table)
    splits = plan_splits(spec, config, data)
    log = io.StringIO()
    reporter = Reporter(stream=log)
    reporter.plan(len(splits), 1)
    trainer = SklearnTrainer(spec, config, data, splits, reporter, tmp_path)

    folds = cross_validate(trainer, splits, reporter)

    assert [fold.fold for fold in folds] == [1, 2, 3]
    for fold, split in zip(folds, splits, strict=True):
        assert np.array_equal(fold.test, split.test)
        assert np.array_equal(fold.truth, data.y[split.test])
        assert fold.probs.shape == (len(split.test), len(data.labels))
        assert np.array_equal(fold.predicted, fold.probs.argmax(axis=1))
        assert fold.accuracy == float(np.mean(fold.predicted == data.y[split.test]))
    lines = [line.split("] ", 1)[1] for line in log.getvalue().splitlines()]
    assert lines == [
        line
        for f in folds
        for line in (f"fold {f.fold}/3", f"fitting logreg (fold {f.fold}/3)",
                     f"fold {f.fold}: test accuracy {f.accuracy:.1%}")
    ]  # fmt: skip

    result = trainer.finish(folds)
    # pooled fold by fold, each track tested exactly once across the k folds
    assert result.tested == [int(t) for split in splits for t in split.test]
    assert sorted(result.tested) == list(range(data.n_tracks))
    assert np.array_equal(result.y_true, data.y[result.tested])
    assert np.array_equal(result.y_pred, np.concatenate([f.predicted for f in folds]))
    assert result.fold_accuracies == [f.accuracy for f in folds]
    assert (tmp_path / "model.pkl").is_file() and result.bundle is None
    metrics = result.metrics()
    assert metrics["family"] == "sklearn" and metrics["input"] == "features"
    assert metrics["weights"] is None and metrics["n_features"] == 3
    assert "tuned_params" in metrics and "bundle" not in metrics and "best_epoch" not in metrics


def test_a_single_split_logs_no_fold_accuracy(tmp_path: Path) -> None:
    table = tiny_features(tmp_path / "features.csv")
    config = RunConfig(model="logreg", features=str(table), split="holdout")
    spec = get_model_spec("logreg")
    data = load_feature_table(table)
    splits = plan_splits(spec, config, data)
    log = io.StringIO()
    reporter = Reporter(stream=log)
    folds = cross_validate(SklearnTrainer(spec, config, data, splits, reporter, tmp_path),
                           splits, reporter)  # fmt: skip
    assert len(folds) == 1 and folds[0].fold == 1
    assert "test accuracy" not in log.getvalue()


def test_sklearn_folds_are_direct_fits_of_the_same_split(tmp_path: Path) -> None:
    table = tiny_features(tmp_path / "features.csv")
    config = RunConfig(model="logreg", features=str(table), split="kfold", folds=3)
    spec = get_model_spec("logreg")
    data = load_feature_table(table)
    splits = plan_splits(spec, config, data)
    reporter = Reporter(stream=io.StringIO())
    folds = cross_validate(SklearnTrainer(spec, config, data, splits, reporter, tmp_path),
                           splits, reporter)  # fmt: skip
    for fold, split in zip(folds, splits, strict=True):
        direct = train_sklearn(spec.build(), data, np.concatenate([split.train, split.valid]),
                               split.test)  # fmt: skip
        assert np.array_equal(fold.probs, direct.test_probs)


def test_torch_folds_are_direct_fits_of_the_same_split(tmp_path: Path) -> None:
    clips = write_tiny_dataset(tmp_path / "clips")
    config = RunConfig(model="linear_mel", dataset=str(clips), split="kfold", folds=2, epochs=2,
                       **TINY)  # fmt: skip
    spec = get_model_spec(config.model)
    frontend = frontend_of(config)
    data = load_audio_dataset(clips, frontend)
    splits = plan_splits(spec, config, data)
    reporter = Reporter(stream=io.StringIO())
    folder = tmp_path / "run"
    folder.mkdir()
    trainer = TRAINERS["torch"](spec, config, data, splits, reporter, folder)
    assert isinstance(trainer, TorchTrainer) and trainer.epochs == 2

    frames, hop = frontend.frames_for(config.window_s), frontend.hop_frames(config.hop_s)
    specs = [fit_length(s, frames) for s in data.spectrograms or []]
    params = {"n_mels": frontend.bins, "n_classes": len(data.labels)}
    folds = []
    for k, split in enumerate(splits, 1):
        torch.manual_seed(k)  # the weights' initial draw, before train_torch seeds itself
        fold = trainer.fit_fold(k, split)
        folds.append(fold)
        torch.manual_seed(k)
        model = spec.build(**params)
        direct = train_torch(model, specs, data.y, split.train, split.valid, config, frames,
                             hop, Reporter(stream=io.StringIO()), k)  # fmt: skip
        probs, _ = evaluate_tracks(model, specs, split.test, None, frames, hop)
        assert np.array_equal(fold.probs, probs)
        assert (fold.best_epoch, fold.epochs_run) == (direct.best_epoch, len(direct.history))
        assert fold.windows_seen == direct.windows_seen > 0

    result = trainer.finish(folds)
    assert result.family == "torch" and result.input == "mel"
    assert result.checkpoint_from == "fold 2" and result.bundle == folder / "bundle"
    assert (folder / "bundle" / "MODEL_CARD.md").is_file()
    assert result.metrics()["bundle"] == str(folder / "bundle")


def test_head_folds_are_direct_fits_of_the_same_split(tmp_path: Path, gtzan_dir: Path) -> None:
    clips = few_real_clips(tmp_path / "clips", gtzan_dir)
    config = RunConfig(model="musicnn_genre", dataset=str(clips), split="kfold", folds=2)
    spec = get_model_spec(config.model)
    head_config = recipe(config)
    data = load_embedding_dataset(clips, head_config.features)
    splits = plan_splits(spec, config, data)
    reporter = Reporter(stream=io.StringIO())
    folder = tmp_path / "run"
    folder.mkdir()
    trainer = trainer_for(spec)(spec, config, data, splits, reporter, folder)
    assert isinstance(trainer, HeadTrainer) and trainer.epochs == head_config.epochs

    folds = cross_validate(trainer, splits, reporter)
    assert data.embeddings is not None
    windows = data.embeddings
    x = windows.select(head_config.features)
    for k, (fold, split) in enumerate(zip(folds, splits, strict=True)):
        train = np.isin(windows.track, split.train)
        test = np.isin(windows.track, split.test) & windows.serving
        # fold k (0-based here) starts from seed + k, as the shipped head's grouped CV did
        head = fit_head(x[train], data.y[windows.track[train]], head_config,
                        len(data.labels), head_config.seed + k)  # fmt: skip
        probs = head_track_probs(head, x[test], windows.track[test], data.n_tracks)
        assert np.array_equal(fold.probs, probs[split.test])
    result = trainer.finish(folds)
    metrics = result.metrics()
    assert metrics["input"] == "musicnn embedding" and metrics["temperature"] == 1.0
    assert metrics["trainable_weights"] == 200 * 3 + 3
    assert (folder / "bundle" / "LICENSE").is_file()


@pytest.mark.parametrize(
    ("model", "kind"),
    [("logreg", "sklearn"), ("simple_cnn", "torch"), ("linear_mel", "torch"),
     ("musicnn_genre", "head")],
)  # fmt: skip
def test_the_registry_picks_a_trainer_by_input_then_family(model: str, kind: str) -> None:
    spec = get_model_spec(model)
    assert trainer_kind(spec) == kind
    assert trainer_for(spec) is TRAINERS[kind]


def test_train_result_metrics_put_kind_specific_figures_last() -> None:
    fold = FoldResult(fold=1, test=np.array([0, 1]), probs=np.eye(2), truth=np.array([0, 0]),
                      train_seconds=1.0, inference_ms_per_track=2.0)  # fmt: skip
    result = TrainResult(folds=[fold], family="torch", input="mel", weights=10,
                         train_seconds=1.0, inference_ms_per_track=2.0, best_epoch=3,
                         extra={"temperature": 1.5})  # fmt: skip
    assert fold.accuracy == 0.5
    assert list(result.metrics()) == [
        "family", "input", "weights", "train_seconds", "inference_ms_per_track", "best_epoch",
        "temperature",
    ]  # fmt: skip
