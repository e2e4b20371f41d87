"""The paper's classifier: ResNeXt-50 (32×4d) with a dual attention module (Zhang et al.).

Architecture, as described in section 3.3 of the paper and fixed here where it is vague:

* stem: conv 7×7, 64 channels, stride 2 → BN → ReLU → **dual attention** → max-pool 3×3/2
  (the paper: "two attention modules after the first layer of convolution and after the last
  layer of convolution");
* four ResNeXt stages of bottleneck blocks, 3/4/6/3 blocks (a conv block with a projection
  shortcut followed by 2/3/5/3 identity blocks), cardinality 32, base width 4 (32×4d), widths
  128/256/512/1024 → outputs 256/512/1024/2048 channels;
* **dual attention** again on the 2048-channel output of the last stage;
* global average pool → MLP head 2048 → 256 → ReLU → dropout 0.5 → 2 logits.

Dual attention = SE channel attention (squeeze by global *average* pool only — the paper removes
CBAM's max-pool branch — FC c→c/16, ReLU, FC c/16→c, sigmoid, channel-wise scale) followed by
spatial attention M = sigmoid(conv(AvgPool_c(F)) + conv(MaxPool_c(F))), pools taken over the
channel axis, each conv 1→1 channel with kernel 7×7 (CBAM's kernel size; the paper does not
state it), padding 3, so M has shape 1×H×W and scales every channel.

Variants for the ablation: ``plain`` (no attention), ``se`` (channel only), ``dual`` (SE +
spatial, the paper's model).
"""

from __future__ import annotations

from typing import List

import torch
from torch import nn

VARIANTS = ("plain", "se", "dual")


class SEChannelAttention(nn.Module):
    """Squeeze-and-excitation: global average pool, FC c→c/r, ReLU, FC c/r→c, sigmoid, scale."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x.mean(dim=(2, 3))
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(z))))
        return x * s[:, :, None, None]


class SpatialAttention(nn.Module):
    """M = sigmoid(conv(mean over channels) + conv(max over channels)); output = F · M."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.conv_avg = nn.Conv2d(1, 1, kernel_size, padding=pad, bias=True)
        self.conv_max = nn.Conv2d(1, 1, kernel_size, padding=pad, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = x.mean(dim=1, keepdim=True)
        mx = x.amax(dim=1, keepdim=True)
        m = torch.sigmoid(self.conv_avg(avg) + self.conv_max(mx))
        return x * m


def attention(channels: int, variant: str) -> nn.Module:
    if variant == "plain":
        return nn.Identity()
    if variant == "se":
        return SEChannelAttention(channels)
    if variant == "dual":
        return nn.Sequential(SEChannelAttention(channels), SpatialAttention(7))
    raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")


class Bottleneck(nn.Module):
    """ResNeXt bottleneck: 1×1 → grouped 3×3 (cardinality 32) → 1×1, with a residual shortcut.

    ``projection=True`` is the paper's "conv block" (shortcut 1×1 conv + BN); otherwise an
    "identity block".
    """

    expansion = 4

    def __init__(self, in_ch: int, planes: int, stride: int, projection: bool,
                 groups: int = 32, base_width: int = 4) -> None:
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        out_ch = planes * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = (
            nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch))
            if projection else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


class LdhNet(nn.Module):
    """ResNeXt-50 32×4d + dual attention + MLP head; input [N,3,S,S], output logits [N,2]."""

    def __init__(self, variant: str = "dual", num_classes: int = 2, layers: List[int] = (3, 4, 6, 3),
                 head_hidden: int = 256, dropout: float = 0.5) -> None:
        super().__init__()
        self.variant = variant
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
        )
        self.att_first = attention(64, variant)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        stages = []
        in_ch = 64
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if i == 0 else 2
            blk = [Bottleneck(in_ch, planes, stride, projection=True)]
            in_ch = planes * Bottleneck.expansion
            blk += [Bottleneck(in_ch, planes, 1, projection=False) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*blk))
        self.stages = nn.Sequential(*stages)
        self.att_last = attention(in_ch, variant)
        self.head = nn.Sequential(
            nn.Linear(in_ch, head_hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(head_hidden, num_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Zero-init the last BN of each residual branch: every block starts as identity, which
        # trains faster from scratch (Goyal et al., 2017).
        for m in self.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.att_first(self.stem(x)))
        return self.att_last(self.stages(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def build_model(variant: str = "dual") -> LdhNet:
    return LdhNet(variant=variant)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
