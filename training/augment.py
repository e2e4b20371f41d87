"""The paper's augmentations (section 3.2), applied per sample on batches of [0,1] images.

rotation U(−10°, 10°); horizontal flip p = 0.5; horizontal translation U(−0.1, 0.1)·side;
scale: the view covers U(0.8, 1.0) of the side (zoom in by 1/s); Gaussian noise with
σ ~ U(0.01, 0.05) on the [0,1] intensity scale. One affine resample (bilinear, zero fill =
the padding value of the contract) per image.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment_batch(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x: [N,1,S,S] in [0,1] → augmented [N,1,S,S]."""
    n = x.shape[0]
    u = torch.rand(n, 6, generator=gen)
    ang = (u[:, 0] * 20 - 10) * math.pi / 180
    flip = torch.where(u[:, 1] < 0.5, -1.0, 1.0)
    tx = (u[:, 2] * 0.2 - 0.1) * 2  # normalised coords span 2
    s = 0.8 + 0.2 * u[:, 3]
    sigma = 0.01 + 0.04 * u[:, 4]
    cos, sin = torch.cos(ang) * s, torch.sin(ang) * s
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * flip
    theta[:, 0, 1] = -sin
    theta[:, 0, 2] = tx
    theta[:, 1, 0] = sin * flip
    theta[:, 1, 1] = cos
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    noise = torch.randn(y.shape, generator=gen) * sigma[:, None, None, None]
    return y + noise
