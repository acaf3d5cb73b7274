"""The seeds' simple CNN (≈15 k weights): four 3×3 conv blocks and a linear read-out."""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.models.blocks import conv_block, standardise


class SimpleCNN(nn.Module):
    def __init__(self, n_mels: int = 128, n_classes: int = 10, dropout: float = 0.25) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_block(1, 8), conv_block(8, 16), conv_block(16, 32), conv_block(32, 32)
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(32, n_classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.features(standardise(mel).unsqueeze(1))
        return self.classifier(self.dropout(x.mean(dim=(2, 3))))


register(
    ModelSpec(
        name="simple_cnn",
        input="mel",
        build=SimpleCNN,
        description="Simple CNN (≈15 k weights): 4 conv blocks (8-16-32-32), global pooling.",
    )
)
