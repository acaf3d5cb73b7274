"""The trainer of spectrogram models (torch): one network per fold, the last one saved (with
``final_fit``: one more, trained on every track after the folds, is saved instead).

Each fold trains through :class:`~genre.training.resume.FoldRunner`, so a killed run resumes
from its epoch checkpoint. Models on the log-mel front-end are also saved as a ``bundle/`` the
Classify page can use, with verdict thresholds measured on every fold's test tracks.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from genre.bundle import save_bundle
from genre.errors import GenreError
from genre.models import ModelSpec
from genre.splits import Split
from genre.training.config import RunConfig
from genre.training.data import TrackData
from genre.training.frontend import Frontend, make_frontend
from genre.training.reporting import Reporter
from genre.training.resume import FoldRunner
from genre.training.torch_loop import (
    TorchResult,
    count_weights,
    evaluate_tracks,
    fit_length,
    train_torch,
)
from genre.training.trainers import (
    FoldResult,
    TrainResult,
    checkpoint_from,
    pooled_accuracy,
    saved_model_tracks,
    split_words,
)
from genre.verdict import thresholds_from_held_out
from runs.files import write_json


def frontend_of(config: RunConfig) -> Frontend:
    return make_frontend(
        config.frontend, config.sample_rate, config.n_fft, config.hop, config.n_mels
    )


class TorchTrainer:
    """Trains ``spec``'s network on windows of every track's spectrogram."""

    def __init__(
        self,
        spec: ModelSpec,
        config: RunConfig,
        data: TrackData,
        splits: list[Split],
        reporter: Reporter,
        folder: Path,
    ) -> None:
        self.spec, self.config, self.data, self.splits = spec, config, data, splits
        self.reporter, self.folder = reporter, folder
        self.frontend = frontend_of(config)
        self.frames = self.frontend.frames_for(config.window_s)
        self.hop = self.frontend.hop_frames(config.hop_s)
        if self.frames < 8:
            raise GenreError("The window is too short: it must span at least 8 spectrogram frames.")
        self.specs = [fit_length(s, self.frames) for s in data.spectrograms or []]
        self.params = {"n_mels": self.frontend.bins, "n_classes": len(data.labels)}
        # epoch checkpoints: a killed run resumes
        self.runner = FoldRunner(folder, config, reporter)
        self.model: torch.nn.Module | None = None

    @property
    def epochs(self) -> int:
        return self.config.epochs

    def fit_fold(self, k: int, split: Split) -> FoldResult:
        model, result, probs, ms = self._train(k, split.train, split.valid, split.test)
        self.model = model
        return FoldResult(
            fold=k,
            test=split.test,
            probs=probs,
            truth=self.data.y[split.test],
            train_seconds=result.train_seconds,
            inference_ms_per_track=ms,
            windows_seen=result.windows_seen,
            best_epoch=result.best_epoch,
            epochs_run=len(result.history),
        )

    def _train(
        self, k: int, train: np.ndarray, valid: np.ndarray, test: np.ndarray
    ) -> tuple[torch.nn.Module, TorchResult, np.ndarray, float]:
        # Seeded before the weights are drawn: fold k's initial weights (not only its crops)
        # are the same on every re-run, whatever ran before in this process.
        torch.manual_seed(self.config.seed + k)
        model = self.spec.build(**self.params)
        result, probs, ms = self.runner.fold(
            k, model,
            partial(train_torch, model, self.specs, self.data.y, train, valid,
                    self.config, self.frames, self.hop, self.reporter, k),
            lambda: evaluate_tracks(model, self.specs, test, None, self.frames, self.hop)[0]
            if len(test) else np.zeros((0, len(self.data.labels))),
        )  # fmt: skip
        return model, result, probs, ms

    def _final_fit(self) -> torch.nn.Module:
        """After cross-validation: the saved model, trained on every track (no early stop)."""
        k = len(self.splits) + 1
        self.reporter.fold_started(k)
        self.reporter.log(
            f"final fit: the saved model is trained on all {self.data.n_tracks} tracks"
        )
        empty = np.zeros(0, dtype=np.int64)
        model, _, _, _ = self._train(k, np.arange(self.data.n_tracks), empty, empty)
        return model

    def finish(self, folds: list[FoldResult]) -> TrainResult:
        if self.config.final_fit:
            self.model = self._final_fit()
        model = self.model
        assert model is not None and folds
        self._save(model)
        train_seconds = sum(fold.train_seconds for fold in folds)
        windows = sum(fold.windows_seen for fold in folds)
        last = folds[-1]
        result = TrainResult(
            folds=folds,
            family="torch",
            input=self.config.frontend,
            weights=count_weights(model),
            train_seconds=train_seconds,
            inference_ms_per_track=float(np.mean([fold.inference_ms_per_track for fold in folds])),
            windows_per_second=windows / train_seconds if train_seconds else 0.0,
            best_epoch=last.best_epoch,
            epochs_run=last.epochs_run,
            checkpoint_from=checkpoint_from(self.splits, self.config.final_fit),
        )
        if not self.frontend.servable:  # the Classify page computes log-mels only
            return result
        bundle_dir = self.folder / "bundle"
        self._save_bundle(bundle_dir, model, result)
        return replace(result, bundle=bundle_dir)

    def _save(self, model: torch.nn.Module) -> None:
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(self.folder / "model.safetensors"))
        write_json(self.folder / "model.json", {"kind": self.spec.name, "params": self.params})

    def _save_bundle(self, bundle_dir: Path, model: torch.nn.Module, result: TrainResult) -> None:
        # verdict thresholds from every fold's test tracks (each track tested once)
        evidence = thresholds_from_held_out(
            np.concatenate([fold.probs for fold in result.folds]), result.y_true
        )
        accuracy = pooled_accuracy(result.folds)
        meta = self._bundle_meta(accuracy)
        meta["verdict"] = evidence.thresholds.to_json()  # the Classify page's "X or Y" etc.
        meta["metrics"]["verdict_evidence"] = {"value": evidence.to_json(), "how": "genre.verdict"}
        save_bundle(
            bundle_dir,
            model=model,
            meta=meta,
            model_card=self._model_card(accuracy) + "\n" + evidence.describe() + "\n",
        )

    def _bundle_meta(self, accuracy: float) -> dict[str, Any]:
        spec, config, data = self.spec, self.config, self.data
        return {
            "name": f"{spec.name}-{self.folder.name}",
            "title": f"{spec.name} (training run {self.folder.name})",
            "description": spec.description,
            "kind": spec.name,
            "params": self.params,
            "labels": data.labels,
            "sample_rate": self.frontend.spec.sample_rate,
            "frontend": self.frontend.spec.to_dict(),
            "window_s": config.window_s,
            "hop_s": config.hop_s,
            "trained_on": {
                "dataset": data.source,
                "files": [data.keys[i] for i in self._saved_tracks()],
                "split": split_words(config.split, config.final_fit),
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

    def _saved_tracks(self) -> np.ndarray:
        return saved_model_tracks(self.splits, self.data.n_tracks, self.config.final_fit)

    def _model_card(self, accuracy: float) -> str:
        spec, config, data = self.spec, self.config, self.data
        return (
            f"# {spec.name}, trained in Genre Studio\n\n{spec.description}\n\n"
            f"Trained on {len(self._saved_tracks())} tracks of {data.source} "
            f"({len(data.labels)} classes: {', '.join(data.labels)}), {config.epochs} epochs at "
            f"most, {config.split} split"
            + (" (the saved model: every track, after cross-validation)" * config.final_fit)
            + ".\n"
            f"Track-level accuracy on held-out tracks: **{accuracy:.1%}**. Small datasets give "
            "optimistic numbers for music by artists not in the training data.\n"
        )
