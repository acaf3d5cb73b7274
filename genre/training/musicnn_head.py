"""The genre head on the frozen musicnn backbone: its recipe, fitting, scoring, calibration.

Used by the shipped bundle's program (:mod:`genre.recipes.musicnn_genre`) and by a user's run
(:mod:`genre.training.head_loop`): the head is fitted full-batch on window features, a track is
scored as the Classifier scores it (the mean of its serving windows' softmax), one temperature
calibrates it, and :func:`served_model` puts it on the backbone as it is served.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genre.models.musicnn_genre import GenreHead, MusicnnGenre
from genre.musicnn import load_musicnn
from genre.training.musicnn_features import BACKBONE_WEIGHTS
from genre.windows import track_probabilities


@dataclass(frozen=True)
class HeadConfig:
    # Chosen among 12 settings by grouped CV on the shared clips (so the recipe's figure is
    # slightly optimistic): adding the pooled mid-end features, an MLP or more/less L2 changed
    # it by ≤ 2 clips.
    features: tuple[str, ...] = ("penultimate",)
    hidden: int = 0  # 0: a linear (multinomial logistic) head
    dropout: float = 0.3
    weight_decay: float = 3e-3
    epochs: int = 150
    lr: float = 3e-3
    label_smoothing: float = 0.1
    shifted_windows: bool = True  # train also on windows shifted by half a patch
    # Train also on this many copies of every clip through a random recording chain (gain,
    # band limit, noise, EQ tilt: audio.degrade). Measured by grouped CV on held-out clips
    # copied through fixed chains: -20 dB 50 % → 67 %, 4 kHz lo-fi 66 % → 83 %, clean 92 % → 94 %.
    recording_copies: int = 2
    folds: int = 5
    block: int = 2  # neighbouring IDs held out together
    seed: int = 0
    # Serving: int8/bfloat16 front-end where the CPU has it (~3x faster, tags move ~5e-4; see
    # genre.musicnn_fast). Training features are always computed in float32.
    low_precision: bool = True

    @property
    def window_features(self) -> tuple[str, ...]:
        """What a head run keeps per window: the head's input and the 50 MSD tags (for the
        tag fusion chosen on its held-out folds)."""
        return tuple(dict.fromkeys((*self.features, "tags")))


def fit_head(
    x: np.ndarray, y: np.ndarray, config: HeadConfig, n_classes: int, seed: int
) -> nn.Module:
    """Full-batch training of the head on window features (standardised inside the head)."""

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: thread hand-offs would cost more than they save
    try:
        return _fit_head(x, y, config, n_classes, seed)
    finally:
        torch.set_num_threads(threads)


def _fit_head(
    x: np.ndarray, y: np.ndarray, config: HeadConfig, n_classes: int, seed: int
) -> nn.Module:
    torch.manual_seed(seed)
    head = GenreHead(x.shape[1], n_classes, hidden=config.hidden, dropout=config.dropout)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()
    head.mean.copy_(xt.mean(0))
    head.std.copy_(xt.std(0) + 1e-3)
    # Balanced classes: weight windows so every genre counts the same.
    counts = torch.bincount(yt, minlength=n_classes).float().clamp(min=1)
    loss_fn = nn.CrossEntropyLoss(
        weight=counts.sum() / (n_classes * counts), label_smoothing=config.label_smoothing
    )
    optimiser = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=0.0)
    head.train()
    for _ in range(config.epochs):
        optimiser.zero_grad()
        loss = loss_fn(head(xt), yt)
        # L2 on the weights only (not biases), scaled so it does not depend on the window count.
        l2 = sum((p**2).sum() for n, p in head.named_parameters() if n.endswith("weight"))
        (loss + config.weight_decay * l2).backward()
        optimiser.step()
    return head.eval()


def head_track_probs(
    head: nn.Module, x: np.ndarray, track: np.ndarray, n_tracks: int, temperature: float = 1.0
) -> np.ndarray:
    """Mean of window softmax per track, the Classifier's aggregation. [n_tracks, classes]."""
    with torch.inference_mode():
        logits = head(torch.from_numpy(x)) / temperature
        probs = torch.softmax(logits, dim=1).double().numpy()
    return track_probabilities(probs, track, np.arange(n_tracks))


def head_logits(head: nn.Module, x: np.ndarray) -> torch.Tensor:
    """The head's logits of every window (float64, before any temperature)."""
    with torch.inference_mode():
        return head(torch.from_numpy(x)).double()


def fit_temperature(
    window_logits: torch.Tensor, track: np.ndarray, labels: np.ndarray, n_tracks: int
) -> tuple[float, float, float]:
    """One temperature minimising the track-level NLL of averaged window probabilities."""
    everyone = np.arange(n_tracks)
    target = torch.from_numpy(labels)

    def nll(temp: float) -> float:
        probs = torch.softmax(window_logits / temp, dim=1).numpy()
        tracks = torch.from_numpy(track_probabilities(probs, track, everyone))
        return float(-torch.log(tracks[torch.arange(n_tracks), target] + 1e-12).mean())

    grid = np.exp(np.linspace(np.log(0.2), np.log(5.0), 161))
    scores = [nll(t) for t in grid]
    best = float(grid[int(np.argmin(scores))])
    return best, nll(1.0), min(scores)


def served_model(
    head: nn.Module, config: HeadConfig, n_classes: int, temperature: float
) -> MusicnnGenre:
    """The pretrained backbone with a trained ``head`` and its temperature, as served."""
    model = MusicnnGenre(
        n_classes=n_classes,
        features=config.features,
        hidden=config.hidden,
        dropout=config.dropout,
        low_precision=config.low_precision,
    )
    model.backbone.load_state_dict(load_musicnn(BACKBONE_WEIGHTS).state_dict())
    model.head.load_state_dict(head.state_dict())
    model.head.temperature.fill_(temperature)
    return model.eval()
