"""CRNN: conv blocks summarise frequency, a GRU reads the resulting sequence over time."""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.models.blocks import conv_block, standardise


class CRNN(nn.Module):
    def __init__(self, n_mels: int = 128, n_classes: int = 10, hidden: int = 64) -> None:
        super().__init__()
        # pool frequency hard and time gently: the GRU needs a sequence to read
        self.features = nn.Sequential(
            conv_block(1, 16, pool=(2, 2)),
            conv_block(16, 32, pool=(3, 2)),
            conv_block(32, 64, pool=(4, 1)),
        )
        self.gru = nn.GRU(64, hidden, batch_first=True)
        self.dropout = nn.Dropout(0.3)
        self.classifier = nn.Linear(hidden, n_classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.features(standardise(mel).unsqueeze(1))  # [batch, 64, bins', frames']
        sequence = x.amax(dim=2).transpose(1, 2)  # [batch, frames', 64]
        _, last = self.gru(sequence)
        return self.classifier(self.dropout(last[-1]))


register(
    ModelSpec(
        name="crnn",
        input="mel",
        build=CRNN,
        description="CRNN: 3 conv blocks, then a GRU (64 units) over time.",
    )
)
