"""Training a genre head on a frozen pretrained backbone (musicnn) inside a registered run.

The embeddings of every 3-s window come from the cache (:mod:`genre.training.cache`); the head
is trained with the shipped recipe of :mod:`genre.training.musicnn_head` (``HeadConfig``,
``fit_head``) on the run's split, scored per track as the Classifier scores it (mean of the
serving windows' probabilities), calibrated with one temperature on held-out tracks, and saved
with the backbone as a bundle the Classify page can use (genres and the 50 MSD tags), by the
writer of the shipped bundle (:mod:`genre.training.musicnn_bundle`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from genre.labels import GTZAN_GENRES
from genre.models import ModelSpec
from genre.musicnn import MUSICNN_FRONTEND, PATCH_FRAMES
from genre.splits import Split
from genre.training.config import RunConfig
from genre.training.data import TrackData
from genre.training.head_fusion import HELD_OUT_FILE, RunFusion, choose_run_fusion
from genre.training.musicnn_bundle import USER_HEAD, run_card, run_meta, save_head_bundle
from genre.training.musicnn_features import BACKBONE_WEIGHTS
from genre.training.musicnn_head import (
    HeadConfig,
    fit_head,
    fit_temperature,
    head_logits,
    head_track_probs,
    served_model,
)
from genre.training.reporting import EpochStats, Reporter
from genre.training.torch_loop import count_weights
from genre.training.trainers import FoldResult, TrainResult, checkpoint_from, pooled_accuracy
from genre.verdict import ThresholdEvidence, thresholds_from_held_out
from genre.windows import track_probabilities
from runs.files import write_json

RECIPE = HeadConfig()  # the shipped head's settings, chosen by grouped CV on the shared clips
# Epochs at which the learning curve is recorded. fit_head is deterministic full-batch
# training from a seeded start, so a head fitted for e epochs is exactly the e-epoch state of
# the longer fit: each point is real, and the last fit is the head that is kept.
CURVE_EPOCHS = (5, 10, 20, 35, 50, 75, 100, 125, 150)
# Fewer held-out tracks than this fit a temperature to noise: the head stays uncalibrated.
MIN_CALIBRATION_TRACKS = 20


def recipe(config: RunConfig) -> HeadConfig:
    """The shipped head's recipe with the run's seed (and its head settings, where given)."""
    return replace(
        RECIPE,
        seed=config.seed,
        epochs=config.head_epochs or RECIPE.epochs,
        hidden=RECIPE.hidden if config.head_hidden < 0 else config.head_hidden,
    )


def run_config(head: HeadConfig, dataset: str, *, final_fit: bool = True) -> RunConfig:
    """The run that trains ``head`` on the ten GTZAN genres in ``dataset``: the inverse of
    :func:`recipe`, in the head's grouped folds (blocks of neighbouring IDs of every genre).
    Only a head of the recipe's settings (seed, epochs and width aside) has one: else
    ``ValueError`` names the settings the pipeline cannot reproduce."""
    config = RunConfig(
        model="musicnn_genre", dataset=dataset, classes=",".join(GTZAN_GENRES), split="kfold",
        folds=head.folds, fold_block=head.block, final_fit=final_fit, seed=head.seed,
        head_epochs=head.epochs, head_hidden=head.hidden, threads=0,
    )  # fmt: skip
    trained = replace(recipe(config), folds=head.folds, block=head.block,
                      low_precision=head.low_precision)  # fmt: skip
    differ = [k for k, v in asdict(head).items() if asdict(trained)[k] != v]
    if differ:
        raise ValueError(f"settings the run pipeline does not offer: {', '.join(differ)}")
    return config


def _window_stats(head: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Window-level cross-entropy and accuracy (as the other runs' curves)."""
    with torch.inference_mode():
        logits = head(torch.from_numpy(x))
        target = torch.from_numpy(y)
        loss = float(nn.functional.cross_entropy(logits, target))
        accuracy = float((logits.argmax(dim=1) == target).float().mean())
    return loss, accuracy


def _fit_with_curve(
    x: np.ndarray,
    y: np.ndarray,
    valid_x: np.ndarray | None,
    valid_y: np.ndarray | None,
    head_config: HeadConfig,
    n_classes: int,
    reporter: Reporter,
    fold: int,
) -> tuple[nn.Module, float]:
    """The head trained for ``head_config.epochs``, its curve reported; (head, fit seconds)."""
    points = sorted({min(e, head_config.epochs) for e in CURVE_EPOCHS} | {head_config.epochs})
    head: nn.Module | None = None
    seconds = 0.0
    for epochs in points:
        started = time.monotonic()
        head = fit_head(x, y, replace(head_config, epochs=epochs), n_classes, head_config.seed)
        seconds = time.monotonic() - started  # the kept head's own fit
        stats = EpochStats(fold, epochs, *_window_stats(head, x, y))
        if valid_x is not None and valid_y is not None and len(valid_y):
            stats.val_loss, stats.val_acc = _window_stats(head, valid_x, valid_y)
        reporter.epoch_end(stats)
        reporter.step(epochs, 1, 1, force=True)
    assert head is not None
    return head, seconds


class HeadTrainer:
    """Trains and scores the head on every split; saves the last one (with ``final_fit``: a
    head trained on every track after the folds) as a bundle."""

    def __init__(
        self,
        spec: ModelSpec,
        config: RunConfig,
        data: TrackData,
        splits: list[Split],
        reporter: Reporter,
        folder: Path,
    ) -> None:
        assert data.embeddings is not None and data.backbone_seconds is not None
        self.spec, self.config, self.data, self.splits = spec, config, data, splits
        self.reporter, self.folder = reporter, folder
        self.head_config = recipe(config)
        self.windows = data.embeddings
        self.x = self.windows.select(self.head_config.features)
        self.window_y = data.y[self.windows.track]
        self.n_classes = len(data.labels)
        reporter.log(
            "musicnn_genre trains its head with the shipped recipe (linear head on the frozen "
            f"backbone's {', '.join(self.head_config.features)} features, "
            f"{self.head_config.epochs} full-batch epochs); epochs, learning rate, batch size "
            "and front-end settings of the run do not apply (head epochs and hidden units do)"
        )
        self.held_logits: list[torch.Tensor] = []  # calibration windows' logits
        self.held_tracks: list[np.ndarray] = []
        self.test_logits: list[torch.Tensor] = []  # every fold's test windows, for the verdict
        self.test_tracks: list[np.ndarray] = []
        self.test_rows: list[np.ndarray] = []  # their rows in the window table (for the tags)
        self.test_folds: list[np.ndarray] = []
        self.head: nn.Module | None = None

    @property
    def epochs(self) -> int:
        return self.head_config.epochs

    def fit_fold(self, k: int, split: Split) -> FoldResult:
        windows, x, head_config = self.windows, self.x, self.head_config
        train_mask = np.isin(windows.track, split.train)  # serving and shifted windows
        valid_mask = np.isin(windows.track, split.valid) & windows.serving
        test_mask = np.isin(windows.track, split.test) & windows.serving
        # fold k's head starts from seed + k - 1 (as the shipped head's cross-validation did)
        head, seconds = _fit_with_curve(
            x[train_mask], self.window_y[train_mask], x[valid_mask], self.window_y[valid_mask],
            replace(head_config, seed=head_config.seed + k - 1), self.n_classes, self.reporter, k,
        )  # fmt: skip
        self.head = head
        started = time.monotonic()
        probs = head_track_probs(head, x[test_mask], windows.track[test_mask], self.data.n_tracks)
        head_ms = 1000 * (time.monotonic() - started) / len(split.test)
        self.test_logits.append(head_logits(head, x[test_mask]))
        self.test_tracks.append(windows.track[test_mask])
        self.test_rows.append(np.flatnonzero(test_mask))
        self.test_folds.append(np.full(int(test_mask.sum()), k))
        # held-out windows for calibration: the validation tracks when the split has them,
        # else every fold's test tracks (k-fold: each track is held out once); only the kept
        # (last) head is calibrated on validation tracks
        if not len(split.valid) or k == len(self.splits):
            held = valid_mask if len(split.valid) else test_mask
            self.held_logits.append(head_logits(head, x[held]))
            self.held_tracks.append(windows.track[held])
        return FoldResult(
            fold=k,
            test=split.test,
            probs=probs[split.test],
            truth=self.data.y[split.test],
            train_seconds=seconds,
            inference_ms_per_track=head_ms,
            windows_seen=int(train_mask.sum()) * head_config.epochs,
            best_epoch=head_config.epochs,
            epochs_run=head_config.epochs,
        )

    def _fusion(self, temperature: float) -> RunFusion | None:
        """Tag fusion chosen on every fold's held-out windows (None where it cannot be)."""
        tags = self.windows.features.get("tags")
        if tags is None or not self.test_logits:
            return None
        log_probs = torch.log_softmax(torch.cat(self.test_logits) / temperature, dim=1).numpy()
        return choose_run_fusion(
            log_probs, tags[np.concatenate(self.test_rows)], np.concatenate(self.test_tracks),
            np.concatenate(self.test_folds), self.data.y, self.data.labels,
        )  # fmt: skip

    def finish(self, folds: list[FoldResult]) -> TrainResult:
        head_config, data, reporter = self.head_config, self.data, self.reporter
        if self.config.final_fit:  # the saved head: every track's windows, the run's seed
            k = len(self.splits) + 1
            reporter.fold_started(k)
            reporter.log(f"final fit: the saved head is trained on all {data.n_tracks} tracks")
            self.head, _ = _fit_with_curve(
                self.x, self.window_y, None, None, head_config, self.n_classes, reporter, k
            )
        head = self.head
        assert head is not None and data.backbone_seconds is not None and folds
        temperature, nll = _temperature(self.held_logits, self.held_tracks, data.y)
        reporter.log(
            f"calibration temperature {temperature:.2f} (fitted on held-out tracks)"
            if temperature != 1.0
            else f"not calibrated: fewer than {MIN_CALIBRATION_TRACKS} held-out tracks"
        )
        fusion = self._fusion(temperature)
        if fusion is not None:
            reporter.log(fusion.describe())
            fusion.held.save(self.folder / HELD_OUT_FILE)  # shipping reuses it, no second CV
        fused = fusion.fused_window_probs() if fusion is not None and fusion.used else None
        evidence = held_out_thresholds(
            self.test_logits, self.test_tracks, data.y, temperature, window_probs=fused
        )
        reporter.log(f"verdict thresholds: {evidence.thresholds} ({evidence.note})")
        model = served_model(head, head_config, self.n_classes, temperature)
        _save_head(self.folder, head, head_config, self.n_classes)
        bundle_dir = self.folder / "bundle"
        accuracy = pooled_accuracy(folds)
        meta = run_meta(
            self.folder.name, self.spec, self.config, head_config, data, self.splits, accuracy
        )
        meta["verdict"] = evidence.thresholds.to_json()
        meta["metrics"]["verdict_evidence"] = {"value": evidence.to_json(), "how": "genre.verdict"}
        card = run_card(self.config, head_config, data, self.splits, accuracy, temperature)
        card += "\n" + evidence.describe() + "\n"
        if fusion is not None:  # served fused only where the tags helped on held-out tracks
            if fusion.used:
                meta["fusion"] = fusion.meta()
            meta["metrics"]["tag_fusion"] = {"value": fusion.metrics(), "how": "held-out folds"}
            card += "\n" + fusion.describe() + "\n"
        save_head_bundle(bundle_dir, model=model, meta=meta, card=card, head=USER_HEAD)
        tested = np.concatenate([fold.test for fold in folds])
        windows = self.windows
        serving_windows = np.bincount(windows.track[windows.serving], minlength=data.n_tracks)
        served_ms = _served_ms_per_track(model, float(np.mean(serving_windows[tested])))
        train_seconds = sum(fold.train_seconds for fold in folds)
        windows_seen = sum(fold.windows_seen for fold in folds)
        return TrainResult(
            folds=folds,
            family="torch",
            input="musicnn embedding",
            weights=count_weights(model),
            train_seconds=train_seconds,
            # the served network (backbone as served, int8/bfloat16 where the CPU has it,
            # + head) on a track's windows, front-end excluded as for the other models
            inference_ms_per_track=served_ms,
            windows_per_second=windows_seen / train_seconds if train_seconds else 0.0,
            best_epoch=head_config.epochs,
            epochs_run=head_config.epochs,
            checkpoint_from=checkpoint_from(self.splits, self.config.final_fit),
            bundle=bundle_dir,
            extra={
                "trainable_weights": count_weights(head),
                # decoding + float32 backbone over serving and shifted windows, when cached
                "embedding_ms_per_track": 1000 * float(np.mean(data.backbone_seconds[tested])),
                "head_ms_per_track": float(np.mean([f.inference_ms_per_track for f in folds])),
                "temperature": temperature,
                **({"calibration_nll": nll} if nll is not None else {}),
                "head": asdict(head_config),
            },
        )


def _served_ms_per_track(model: nn.Module, windows_per_track: float, repeats: int = 3) -> float:
    """Time the served network on one track's worth of 3-s log-mel windows."""
    batch = torch.randn(max(1, round(windows_per_track)), MUSICNN_FRONTEND.n_mels, PATCH_FRAMES)
    with torch.inference_mode():
        model(batch)  # warm-up: first calls pay for allocations and kernel selection
        started = time.monotonic()
        for _ in range(repeats):
            model(batch)
    return 1000 * (time.monotonic() - started) / repeats


def _temperature(
    logits: list[torch.Tensor], tracks: list[np.ndarray], y: np.ndarray
) -> tuple[float, list[float] | None]:
    """One softmax temperature minimising the held-out tracks' NLL (1.0 with too few), and
    that NLL before and after it (None when not calibrated)."""
    track = np.concatenate(tracks) if tracks else np.zeros(0, dtype=np.int64)
    present, local = np.unique(track, return_inverse=True)  # fit_temperature wants 0..n-1
    if len(present) < MIN_CALIBRATION_TRACKS:
        return 1.0, None
    value, before, after = fit_temperature(torch.cat(logits), local, y[present], len(present))
    return value, [before, after]


def held_out_thresholds(
    logits: list[torch.Tensor],
    tracks: list[np.ndarray],
    y: np.ndarray,
    temperature: float,
    window_probs: np.ndarray | None = None,
) -> ThresholdEvidence:
    """Verdict thresholds from the test tracks' calibrated probabilities, as served (mean of
    the windows' softmax, or the given fused ``window_probs`` of the same windows); the
    defaults, with a note, when too few tracks were held out."""
    if not logits:
        return thresholds_from_held_out(np.zeros((0, len(np.unique(y)))), np.zeros(0, int))
    if window_probs is None:
        window_probs = torch.softmax(torch.cat(logits) / temperature, dim=1).numpy()
    track = np.concatenate(tracks)
    present = list(dict.fromkeys(track.tolist()))  # each test track once, in order
    per_track = [window_probs[track == t] for t in present]
    probs = track_probabilities(window_probs, track, present)
    return thresholds_from_held_out(probs, y[present], per_track)


def _save_head(folder: Path, head: nn.Module, head_config: HeadConfig, n_classes: int) -> None:
    """The run's checkpoint is the trained part only; the backbone is the shipped file."""
    state = {k: v.detach().contiguous() for k, v in head.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    write_json(
        folder / "model.json",
        {
            "kind": "musicnn_genre", "part": "head", "backbone": str(BACKBONE_WEIGHTS),
            "params": {"n_classes": n_classes, "features": list(head_config.features),
                       "hidden": head_config.hidden, "dropout": head_config.dropout},
        },
    )  # fmt: skip
