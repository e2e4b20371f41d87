"""Export the placeholder model: a tiny untrained CNN with the production I/O contract.

It exists so the worker, SR writer and demo can run end to end before the trained model lands.
Its outputs are meaningless (random weights, fixed seed). Run from the repository root:

    /usr/bin/python3 -m training.export_placeholder [--out models]
"""

from __future__ import annotations

import argparse
import os

import torch
from torch import nn

from .card import sha256_file, write_card
from .contract import copy_input, output_section


class PlaceholderNet(nn.Module):
    """Two strided convolutions, global average pool, linear → 2 logits."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Linear(16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D401
        return self.head(self.features(x))


def export_onnx(model: nn.Module, path: str, size: int, opset: int = 17) -> None:
    """ONNX export with the agreed names and a dynamic batch axis."""
    model.eval()
    dummy = torch.zeros(2, 3, size, size, dtype=torch.float32)
    torch.onnx.export(
        model, dummy, path, input_names=["image"], output_names=["logits"],
        dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}}, opset_version=opset,
        do_constant_folding=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models")
    ap.add_argument("--size", type=int, default=128)
    args = ap.parse_args()
    torch.manual_seed(0)
    model = PlaceholderNet()
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "placeholder-v0.onnx")
    export_onnx(model, onnx_path, args.size)
    card = {
        "schemaVersion": 1,
        "name": "ldh-placeholder",
        "version": "0.0.0-placeholder",
        "placeholder": True,
        "file": "placeholder-v0.onnx",
        "sha256": sha256_file(onnx_path),
        "architecture": "tiny CNN (2 conv + global average pool + linear), untrained random weights",
        "input": copy_input(args.size),
        "output": output_section(),
        "threshold": 0.5,
        "aggregation": {"method": "mean", "k": 3, "chosenOn": "not chosen: placeholder (untrained)"},
        "training": {
            "data": "none (untrained; random weights from torch.manual_seed(0))",
            "command": "/usr/bin/python3 -m training.export_placeholder",
            "seed": 0, "epochs": 0, "imageSize": args.size, "images": 0, "durationMin": 0,
        },
        "metrics": {},
        "intendedUse": "integration testing of the pipeline only; outputs are meaningless",
        "disclaimer": "Untrained placeholder with random weights — not for clinical use.",
    }
    md = f"""# ldh-placeholder 0.0.0-placeholder

**Untrained placeholder — outputs are meaningless. Not for clinical use.**

A tiny CNN (two strided 3×3 convolutions, global average pool, linear layer; {sum(p.numel() for p in model.parameters())}
parameters) with random weights (`torch.manual_seed(0)`), exported with exactly the production I/O contract
so that the worker, the SR writer and the end-to-end demo can run before the trained model exists.

- File: `placeholder-v0.onnx` (sha256 `{card['sha256']}`), ONNX opset 17, dynamic batch.
- Input `image`: float32 NCHW `[N,3,{args.size},{args.size}]`, preprocessed per contract `{card['input']['contract']}`
  (see `training/INPUT_CONTRACT.md`).
- Output `logits`: float32 `[N,2]`, classes `["healthy","ldh"]`, p = softmax(logits)[1].
- Threshold 0.5, study aggregation `mean` (not chosen on data).
- Produced by `/usr/bin/python3 -m training.export_placeholder`.
"""
    write_card(card, os.path.join(args.out, "placeholder-v0.json"), md)
    print(f"wrote {onnx_path} sha256={card['sha256']}")


if __name__ == "__main__":
    main()
