"""A ResNet-18 trunk (own implementation) feeding a bidirectional GRU over time.

Same layout as torchvision's ResNet-18 (stem, four stages of two basic blocks), but with a
configurable base width (16 by default instead of 64, ≈1/16 of the compute) so it trains on
a laptop CPU; later stages stop downsampling time so the GRU still has a sequence to read.
"""

from __future__ import annotations

import torch
from torch import nn

from genre.models import ModelSpec, register
from genre.models.blocks import standardise


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: tuple[int, int]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != (1, 1) or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18Trunk(nn.Module):
    STAGE_STRIDES = ((1, 1), (2, 2), (2, 1), (2, 1))  # (frequency, time)

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        stages, c_in = [], width
        for i, stride in enumerate(self.STAGE_STRIDES):
            c_out = width * 2**i
            stages.append(
                nn.Sequential(BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out, (1, 1)))
            )
            c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.out_channels = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))


class ResNet18BiGRU(nn.Module):
    def __init__(
        self, n_mels: int = 128, n_classes: int = 10, width: int = 16, hidden: int = 64
    ) -> None:
        super().__init__()
        self.trunk = ResNet18Trunk(width)
        self.gru = nn.GRU(self.trunk.out_channels, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.3)
        self.classifier = nn.Linear(2 * hidden, n_classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.trunk(standardise(mel).unsqueeze(1))  # [batch, C, bins', frames']
        out, _ = self.gru(x.mean(dim=2).transpose(1, 2))
        return self.classifier(self.dropout(out.mean(dim=1)))


register(
    ModelSpec(
        name="resnet18_bigru",
        input="mel",
        build=ResNet18BiGRU,
        description="ResNet-18 trunk (base width 16, own implementation) + Bi-GRU over time.",
    )
)
