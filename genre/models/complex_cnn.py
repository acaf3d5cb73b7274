"""The seeds' "complex" CNN (≈59 k weights): wider conv blocks, mean+max pooling, dropout."""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.models.blocks import conv_block, mean_max_pool, standardise


class ComplexCNN(nn.Module):
    def __init__(self, n_mels: int = 128, n_classes: int = 10, dropout: float = 0.3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_block(1, 16), conv_block(16, 32), conv_block(32, 48), conv_block(48, 88)
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * 88, n_classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.features(standardise(mel).unsqueeze(1))
        return self.classifier(self.dropout(mean_max_pool(x)))


register(
    ModelSpec(
        name="complex_cnn",
        input="mel",
        build=ComplexCNN,
        description="Complex CNN (≈59 k weights): 4 conv blocks (16-32-48-88), mean+max pooling.",
    )
)
