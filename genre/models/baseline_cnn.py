"""A small CNN on log-mel windows, trained from scratch: the honest baseline.

Each window is standardised on its own, so microphone gain and file loudness do not matter.
"""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register


class BaselineCNN(nn.Module):
    def __init__(
        self,
        n_mels: int = 128,
        n_classes: int = 10,
        channels: tuple[int, ...] = (8, 16, 32, 64),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = 1
        for width in channels:
            layers += [
                nn.Conv2d(previous, width, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            previous = width
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * previous, n_classes)
        self.n_mels = n_mels

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """log-mel [batch, n_mels, frames] → logits [batch, n_classes]."""
        mean = mel.mean(dim=(1, 2), keepdim=True)
        std = mel.std(dim=(1, 2), keepdim=True) + 1e-5
        x = self.features(((mel - mean) / std).unsqueeze(1))
        x = x.mean(dim=2)  # pool frequency → [batch, channels, time]
        pooled = torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)
        return self.classifier(self.dropout(pooled))


register(
    ModelSpec(
        name="baseline_cnn",
        input="mel",
        build=BaselineCNN,
        description="4-block CNN (≈26 k weights) on 3-s log-mel windows, trained from scratch.",
    )
)
