"""The training loop for spectrogram models: windows in, track-level votes out.

Training sees fixed-length windows (random crops as augmentation, or the fixed grid), with
optional mixup. Validation and test score whole tracks: the mean of the window probabilities
over the same window grid the Classifier uses, so reported accuracy is what serving gives.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from genre.training.config import RunConfig
from genre.training.reporting import EpochStats, Reporter
from genre.windows import loop_to_length, track_probabilities, window_starts

EVAL_BATCH = 128


@dataclass
class TorchResult:
    model: nn.Module
    history: list[EpochStats] = field(default_factory=list)
    best_epoch: int = 0
    train_seconds: float = 0.0
    windows_seen: int = 0

    @property
    def windows_per_second(self) -> float:
        return self.windows_seen / self.train_seconds if self.train_seconds > 0 else 0.0


def fit_length(spec: np.ndarray, frames: int) -> np.ndarray:
    """Loop a track shorter than one window up to a full window, as the Classifier does."""
    return loop_to_length(spec, frames, axis=1)


def _batch(
    specs: Sequence[np.ndarray], items: Sequence[tuple[int, int]], frames: int
) -> torch.Tensor:
    return torch.from_numpy(
        np.stack([specs[t][:, s : s + frames] for t, s in items]).astype(np.float32)
    )


def epoch_windows(
    specs: Sequence[np.ndarray],
    tracks: np.ndarray,
    frames: int,
    hop: int,
    config: RunConfig,
    rng: np.random.Generator,
) -> list[tuple[int, int]]:
    """(track, start frame) pairs for one epoch, shuffled."""
    items: list[tuple[int, int]] = []
    for t in tracks:
        n = specs[t].shape[1]
        if config.augment:
            starts = rng.integers(0, n - frames + 1, size=config.crops_per_track)
        else:
            starts = window_starts(n, frames, hop)
        items += [(int(t), int(s)) for s in starts]
    order = rng.permutation(len(items))
    return [items[i] for i in order]


def epoch_size(
    specs: Sequence[np.ndarray], tracks: np.ndarray, frames: int, hop: int, config: RunConfig
) -> int:
    """Windows in one training epoch (as :func:`epoch_windows` cuts them)."""
    if config.augment:
        return len(tracks) * config.crops_per_track
    return sum(len(window_starts(specs[t].shape[1], frames, hop)) for t in tracks)


def logits_of(out: torch.Tensor | dict) -> torch.Tensor:
    return out["logits"] if isinstance(out, dict) else out


@torch.inference_mode()
def evaluate_tracks(
    model: nn.Module,
    specs: Sequence[np.ndarray],
    tracks: np.ndarray,
    y: np.ndarray | None,
    frames: int,
    hop: int,
) -> tuple[np.ndarray, float | None]:
    """Track probabilities [tracks, classes] (mean over grid windows) and the window loss."""
    model.eval()
    items = [(int(t), s) for t in tracks for s in window_starts(specs[t].shape[1], frames, hop)]
    owner = np.asarray([t for t, _ in items])
    probs, losses = [], []
    for start in range(0, len(items), EVAL_BATCH):
        chunk = items[start : start + EVAL_BATCH]
        logits = logits_of(model(_batch(specs, chunk, frames)))
        probs.append(torch.softmax(logits, dim=1).numpy())
        if y is not None:
            target = torch.from_numpy(y[[t for t, _ in chunk]])
            losses.append(nn.functional.cross_entropy(logits, target, reduction="sum").item())
    window_probs = np.concatenate(probs) if probs else np.zeros((0, 0))
    track_probs = track_probabilities(window_probs, owner, tracks)
    loss = sum(losses) / len(items) if y is not None and items else None
    return track_probs, loss


def train_torch(
    model: nn.Module,
    specs: Sequence[np.ndarray],
    y: np.ndarray,
    train: np.ndarray,
    valid: np.ndarray,
    config: RunConfig,
    frames: int,
    hop: int,
    reporter: Reporter,
    fold: int = 1,
    resume_state: dict[str, Any] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> TorchResult:
    """Train ``model`` in place; with ``config.patience`` the best validation epoch is kept.

    ``on_epoch`` receives, after every epoch, everything needed to continue this fold (the
    epoch checkpoint); ``resume_state`` is such a state to continue from.
    """
    torch.manual_seed(config.seed + fold)
    rng = np.random.default_rng(config.seed + fold)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    per_batch = config.lr_schedule == "one-cycle"
    if per_batch:  # warm up then anneal over every batch of the fold
        steps_per_epoch = max(1, math.ceil(epoch_size(specs, train, frames, hop, config)
                                           / config.batch_size))  # fmt: skip
        schedule: torch.optim.lr_scheduler.LRScheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimiser, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch
        )
    else:
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
    smoothing = config.label_smoothing
    result = TorchResult(model=model)
    best_loss, best_state, bad_epochs = math.inf, None, 0
    first_epoch, stopped = 1, False
    if resume_state is not None:
        model.load_state_dict(resume_state["model"])
        optimiser.load_state_dict(resume_state["optimiser"])
        schedule.load_state_dict(resume_state["schedule"])
        torch.set_rng_state(resume_state["torch_rng"])
        rng.bit_generator.state = resume_state["numpy_rng"]
        result.history = [EpochStats(**row) for row in resume_state["history"]]
        result.best_epoch = resume_state["best_epoch"]
        result.train_seconds = resume_state["train_seconds"]
        result.windows_seen = resume_state["windows_seen"]
        best_loss, best_state = resume_state["best_loss"], resume_state["best_state"]
        bad_epochs, stopped = resume_state["bad_epochs"], resume_state["stopped"]
        first_epoch = resume_state["epoch"] + 1
    for epoch in range(first_epoch, config.epochs + 1):
        if stopped:
            break
        model.train()
        items = epoch_windows(specs, train, frames, hop, config, rng)
        steps = max(1, math.ceil(len(items) / config.batch_size))
        total_loss, correct, seen = 0.0, 0, 0
        started = time.monotonic()
        for step in range(1, steps + 1):
            chunk = items[(step - 1) * config.batch_size : step * config.batch_size]
            x = _batch(specs, chunk, frames)
            target = torch.from_numpy(y[[t for t, _ in chunk]])
            optimiser.zero_grad()
            if config.mixup > 0 and len(chunk) > 1:
                lam = float(rng.beta(config.mixup, config.mixup))
                perm = torch.from_numpy(rng.permutation(len(chunk)))
                logits = logits_of(model(lam * x + (1 - lam) * x[perm]))
                loss = lam * nn.functional.cross_entropy(
                    logits, target, label_smoothing=smoothing
                ) + (1 - lam) * nn.functional.cross_entropy(
                    logits, target[perm], label_smoothing=smoothing
                )
            else:
                logits = logits_of(model(x))
                loss = nn.functional.cross_entropy(logits, target, label_smoothing=smoothing)
            loss.backward()
            optimiser.step()
            if per_batch:
                schedule.step()
            total_loss += loss.item() * len(chunk)
            correct += int((logits.argmax(dim=1) == target).sum())
            seen += len(chunk)
            reporter.step(epoch, step, steps)
        if not per_batch:
            schedule.step()
        result.train_seconds += time.monotonic() - started
        result.windows_seen += seen
        stats = EpochStats(fold, epoch, total_loss / seen, correct / seen)
        if len(valid):
            probs, stats.val_loss = evaluate_tracks(model, specs, valid, y, frames, hop)
            stats.val_acc = float(np.mean(probs.argmax(axis=1) == y[valid]))
        result.history.append(stats)
        reporter.epoch_end(stats)
        if config.patience and stats.val_loss is not None:
            if stats.val_loss < best_loss - 1e-4:
                best_loss, bad_epochs, result.best_epoch = stats.val_loss, 0, epoch
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad_epochs += 1
                if bad_epochs >= config.patience:
                    reporter.log(f"early stop: no validation improvement for {bad_epochs} epochs")
                    stopped = True
        if on_epoch is not None:
            on_epoch({
                "epoch": epoch, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                "schedule": schedule.state_dict(), "torch_rng": torch.get_rng_state(),
                "numpy_rng": rng.bit_generator.state,
                "history": [asdict(row) for row in result.history],
                "best_epoch": result.best_epoch, "train_seconds": result.train_seconds,
                "windows_seen": result.windows_seen, "best_loss": best_loss,
                "best_state": best_state, "bad_epochs": bad_epochs, "stopped": stopped,
            })  # fmt: skip
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        result.best_epoch = len(result.history)
    model.eval()
    return result


def count_weights(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))
