"""A 3-layer LSTM over MFCC sequences.

The MFCCs are computed inside the network (a fixed DCT of the dB log-mel window), so the model
reads the same log-mel windows as every other zoo model and can serve the Classify page.
"""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.models.blocks import dct_matrix

N_MFCC = 20


class LSTMMFCC(nn.Module):
    def __init__(
        self, n_mels: int = 128, n_classes: int = 10, hidden: int = 64, layers: int = 3,
        dropout: float = 0.2,
    ) -> None:  # fmt: skip
        super().__init__()
        self.register_buffer("dct", dct_matrix(min(N_MFCC, n_mels), n_mels), persistent=False)
        self.norm = nn.LayerNorm(min(N_MFCC, n_mels))
        self.lstm = nn.LSTM(
            min(N_MFCC, n_mels), hidden, num_layers=layers, batch_first=True, dropout=dropout
        )
        self.classifier = nn.Linear(hidden, n_classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """[batch, n_mels, frames] dB log-mel → MFCC [batch, frames, 20] → LSTM → logits."""
        mfcc = torch.einsum("cm,bmt->btc", self.dct, mel)
        out, _ = self.lstm(self.norm(mfcc))
        return self.classifier(out.mean(dim=1))


register(
    ModelSpec(
        name="lstm_mfcc",
        input="mel",
        build=LSTMMFCC,
        description="3-layer LSTM (64 units) on 20 MFCCs per frame (DCT of the log-mel inside).",
    )
)
