"""The linear baseline: per-band mean and spread of a window, then one linear layer.

If a deep model cannot beat this, it has learned nothing a band-energy profile does not show.
"""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.models.blocks import standardise


class LinearMel(nn.Module):
    def __init__(self, n_mels: int = 128, n_classes: int = 10) -> None:
        super().__init__()
        self.classifier = nn.Linear(2 * n_mels, n_classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """[batch, n_mels, frames] → logits [batch, n_classes]."""
        x = standardise(mel)
        return self.classifier(torch.cat([x.mean(dim=2), x.std(dim=2)], dim=1))


register(
    ModelSpec(
        name="linear_mel",
        input="mel",
        build=LinearMel,
        description="Linear baseline: per-band mean and standard deviation of a 3-s window.",
    )
)
