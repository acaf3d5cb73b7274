"""Parallel recurrent CNN (after Feng et al. 2017): a CNN and a Bi-GRU side by side.

The conv branch sees local texture, the recurrent branch the order of frames; their summaries
are concatenated before the classifier.
"""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.models.blocks import conv_block, mean_max_pool, standardise


class PRCNN(nn.Module):
    def __init__(self, n_mels: int = 128, n_classes: int = 10, hidden: int = 32) -> None:
        super().__init__()
        self.cnn = nn.Sequential(
            conv_block(1, 16, pool=4), conv_block(16, 32), conv_block(32, 64), conv_block(64, 64)
        )
        # the RNN reads a coarser picture: 4 bands pooled into one, time halved
        self.pool = nn.AvgPool2d((4, 2), ceil_mode=True)
        self.gru = nn.GRU(-(-n_mels // 4), hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.3)
        self.classifier = nn.Linear(2 * 64 + 2 * hidden, n_classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = standardise(mel).unsqueeze(1)
        conv = mean_max_pool(self.cnn(x))
        sequence = self.pool(x).squeeze(1).transpose(1, 2)  # [batch, frames/2, n_mels/4]
        out, _ = self.gru(sequence)
        return self.classifier(self.dropout(torch.cat([conv, out.mean(dim=1)], dim=1)))


register(
    ModelSpec(
        name="prcnn",
        input="mel",
        build=PRCNN,
        description="Parallel CNN + Bi-GRU branches, concatenated (PRCNN).",
    )
)
