"""The front-end block of :mod:`genre.musicnn`, shared with its fast path
(:mod:`genre.musicnn_fast`).

A block is one "musically motivated" convolution (timbral or temporal) max-pooled over frequency;
the fast path re-lays its weights out for GEMMs, so both modules import it from here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

TF_BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's default


def batch_norm(channels: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(channels, eps=TF_BN_EPS)


def _bn_affine(bn: nn.BatchNorm1d | nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Inference batch norm as ``x * scale + shift``."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


class FreqPooledConv(nn.Module):
    """Conv over (time, frequency) → ReLU → batch norm → max over all frequency positions.

    Input [B, T_padded, F] (the batch-normalised spectrogram); output [B, C, T].

    The bias, ReLU and batch norm act per channel and are monotonic, so they are applied after
    the max-pool, on the small [B, C, T] tensor: a channel whose batch-norm scale is negative
    needs the *minimum* over frequency, taken as the max of the sign-flipped convolution.
    """

    def __init__(self, filters: int, time: int, freq: int, pad: tuple[int, int]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, filters, kernel_size=(time, freq))
        self.bn = batch_norm(filters)
        self.pad = pad

    def bn_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        return _bn_affine(self.bn)

    def signs(self) -> torch.Tensor:
        return torch.where(self.bn_affine()[0] < 0, -1.0, 1.0)

    def gemm_weight(self, sign: torch.Tensor) -> torch.Tensor:
        """Sign-flipped kernel as a [time·freq, C] matrix, for im2col GEMMs (the fast path)."""
        weight = self.conv.weight * sign[:, None, None, None]
        return weight.reshape(weight.shape[0], -1).t()

    def finish(
        self, extreme: torch.Tensor, sign: torch.Tensor, channels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """[B, C, T] max of the sign-flipped conv → bias, ReLU, batch norm (of ``channels``)."""
        scale, shift = self.bn_affine()
        bias = self.conv.bias
        if channels is not None:
            scale, shift, bias, sign = (v[channels] for v in (scale, shift, bias, sign))
        y = torch.relu(extreme * sign[None, :, None] + bias[None, :, None])
        return y * scale[None, :, None] + shift[None, :, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_positions(x)[0]

    def forward_with_positions(
        self, x: torch.Tensor, channels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The output [B, C, T] and, for every value, the frequency position [B, C, T] of the
        filter placement that won the max (genre.saliency traces evidence back through it).

        With ``channels`` (a boolean mask [C]) only those channels are computed: the output is
        [B, selected, T], finished with their own bias and batch norm.
        """
        # Zero padding comes after the input batch norm, exactly as in the original.
        x = F.pad(x, (0, 0, *self.pad))
        sign = self.signs()
        weight = self.conv.weight * sign[:, None, None, None]
        if channels is not None:
            weight = weight[channels]
        if self.conv.kernel_size[1] == 1:
            # A purely temporal filter is a 1-D conv of every mel band: fold bands into the batch.
            b, t, f = x.shape
            bands = x.transpose(1, 2).reshape(b * f, 1, t)
            y = F.conv1d(bands, weight[:, :, :, 0])  # [B·F, C, T]
            extreme, position = y.view(b, f, -1, y.shape[-1]).max(dim=1)
        else:
            extreme, position = F.conv2d(x.unsqueeze(1), weight).max(dim=3)  # [B, C, T]
        return self.finish(extreme, sign, channels), position
