"""Pretrained musicnn backbone + a small genre head, in one module the Classifier can serve.

forward(log-mel windows [B, 96, 187]) → {"logits": genre logits, "tags": the 50 MSD tag
probabilities, "embedding": the head's input, "penultimate": the backbone's 200-d embedding}.
The backbone is frozen and pretrained on the Million Song Dataset; only the head is trained
(the shipped one by ``python -m genre recipe musicnn-genre``; a user's on the Training page or by
``python -m genre train --model musicnn_genre``), on features that are robust to the few
artists of the 100 shared GTZAN clips.
"""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.musicnn import Musicnn
from genre.musicnn_fast import bf16_available

# Backbone outputs the head may read, and their widths.
FEATURE_SIZES = {"penultimate": 200, "mean_pool": 753, "max_pool": 753, "tags": 50}


class GenreHead(nn.Module):
    """Standardise the chosen backbone features, then a linear layer or a one-hidden-layer MLP.

    The standardisation statistics are buffers fitted on the training set, so the shipped
    weights file holds everything needed at inference.
    """

    def __init__(
        self, in_features: int, n_classes: int, hidden: int = 0, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_features))
        self.register_buffer("std", torch.ones(in_features))
        if hidden > 0:
            self.net: nn.Module = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(in_features, hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, n_classes),
            )
        else:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_features, n_classes))
        # Temperature fitted on held-out folds (probability calibration); 1 = none.
        self.register_buffer("temperature", torch.ones(()))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net((features - self.mean) / self.std) / self.temperature


def bf16_is_native() -> bool:
    """True when this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX)."""
    return bf16_available()


def head_features(outputs: dict[str, torch.Tensor], names: tuple[str, ...]) -> torch.Tensor:
    return torch.cat([outputs[name] for name in names], dim=1)


class MusicnnGenre(nn.Module):
    def __init__(
        self,
        n_classes: int = 10,
        features: tuple[str, ...] | list[str] = ("penultimate",),
        hidden: int = 0,
        dropout: float = 0.0,
        low_precision: bool = False,
    ) -> None:
        super().__init__()
        unknown = set(features) - set(FEATURE_SIZES)
        if unknown or not features:
            raise ValueError(f"unknown backbone features: {sorted(unknown)}")
        self.features = tuple(features)
        # The serving path picks its precision from the CPU (genre.musicnn_fast).
        self.backbone = Musicnn().set_low_precision(low_precision)
        self.backbone.requires_grad_(False)
        width = sum(FEATURE_SIZES[name] for name in self.features)
        self.head = GenreHead(width, n_classes, hidden=hidden, dropout=dropout)

    def train(self, mode: bool = True) -> MusicnnGenre:
        super().train(mode)
        self.backbone.eval()  # frozen: its batch norms always use the pretrained statistics
        return self

    def forward(self, mel: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.backbone(mel)
        embedding = head_features(out, self.features)
        return {
            "logits": self.head(embedding),
            "tags": out["tags"],
            "embedding": embedding,
            "penultimate": out[
                "penultimate"
            ],  # the backbone's 200-d embedding, whatever the head reads
        }


register(
    ModelSpec(
        name="musicnn_genre",
        # Serving feeds log-mel windows, but the trainable part is a head on the frozen
        # backbone's embeddings, which training computes once per window and caches
        # (genre.training.head_loop); the spectrogram front-end settings do not apply.
        input="embedding",
        build=MusicnnGenre,
        description=(
            "musicnn (pretrained on the Million Song Dataset, frozen) + a linear genre head "
            "trained on its embeddings of 3-s windows; also returns the 50 MSD tags."
        ),
    )
)
