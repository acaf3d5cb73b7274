"""Two conv layers (3×3, then 5×5) and a three-hidden-layer MLP head."""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.models.blocks import conv_block, standardise

GRID = (4, 4)  # the MLP reads a fixed 4×4 grid of pooled conv features


class CNNMLP(nn.Module):
    def __init__(
        self,
        n_mels: int = 128,
        n_classes: int = 10,
        hidden: tuple[int, int, int] = (128, 64, 32),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_block(1, 16, kernel=3, pool=4),
            conv_block(16, 32, kernel=5, pool=2),
            nn.AdaptiveAvgPool2d(GRID),
        )
        layers: list[nn.Module] = [nn.Flatten()]
        width = 32 * GRID[0] * GRID[1]
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.head = nn.Sequential(*layers)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(standardise(mel).unsqueeze(1)))


register(
    ModelSpec(
        name="cnn_mlp",
        input="mel",
        build=CNNMLP,
        description="2-conv CNN (3×3 and 5×5 kernels) with a 3-hidden-layer MLP head (128-64-32).",
    )
)
