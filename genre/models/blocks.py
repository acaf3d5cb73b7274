"""Small building blocks shared by the zoo's spectrogram models (registers no model).

Every zoo network starts with :func:`standardise`: each window is scaled to zero mean and unit
variance on its own, so file loudness and microphone gain do not matter and no dataset
statistics need to travel with a bundle.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def standardise(x: torch.Tensor) -> torch.Tensor:
    """[batch, bins, frames] → same shape, per-window zero mean and unit variance."""
    mean = x.mean(dim=(1, 2), keepdim=True)
    std = x.std(dim=(1, 2), keepdim=True) + 1e-5
    return (x - mean) / std


def conv_block(
    c_in: int, c_out: int, kernel: int = 3, pool: int | tuple[int, int] = 2
) -> nn.Sequential:
    """conv → batch norm → ReLU → max-pool; the pool never shrinks an axis below 1."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(pool, ceil_mode=True),
    )


def mean_max_pool(x: torch.Tensor) -> torch.Tensor:
    """[batch, channels, ...] → [batch, 2·channels]: the mean and the max over the rest."""
    flat = x.flatten(2)
    return torch.cat([flat.mean(dim=2), flat.amax(dim=2)], dim=1)


def dct_matrix(n_coeffs: int, n_bins: int) -> torch.Tensor:
    """Orthonormal DCT-II [n_coeffs, n_bins]: MFCCs are this times a dB log-mel spectrum."""
    n = torch.arange(n_bins, dtype=torch.float64)
    k = torch.arange(n_coeffs, dtype=torch.float64)[:, None]
    basis = torch.cos(math.pi / n_bins * (n + 0.5) * k) * math.sqrt(2.0 / n_bins)
    basis[0] /= math.sqrt(2.0)
    return basis.float()


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
