"""A bidirectional GRU reading the spectrogram frame by frame."""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.models.blocks import standardise


class BiGRU(nn.Module):
    def __init__(
        self, n_mels: int = 128, n_classes: int = 10, hidden: int = 64, layers: int = 2,
        dropout: float = 0.2,
    ) -> None:  # fmt: skip
        super().__init__()
        self.project = nn.Sequential(nn.Linear(n_mels, 64), nn.ReLU(inplace=True))
        self.gru = nn.GRU(
            64, hidden, num_layers=layers, batch_first=True, bidirectional=True, dropout=dropout
        )
        self.classifier = nn.Linear(4 * hidden, n_classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        halved = nn.functional.avg_pool1d(standardise(mel), 2, ceil_mode=True)  # time / 2
        frames = self.project(halved.transpose(1, 2))  # [batch, frames / 2, 64]
        out, _ = self.gru(frames)
        pooled = torch.cat([out.mean(dim=1), out.amax(dim=1)], dim=1)
        return self.classifier(pooled)


register(
    ModelSpec(
        name="bigru",
        input="mel",
        build=BiGRU,
        description="2-layer bidirectional GRU (64 units each way) over mel frames (time halved).",
    )
)
