"""PyTorch side of bench/inference (onnxruntime-node vs PyTorch eager on the same weights).

The trained checkpoint (.pt) is not in git, only its ONNX export, and the export folds BatchNorm
into the convolutions, so the ONNX weights cannot be loaded back into `LdhNet`. Instead this
builds `LdhNet` ("dual") with a fixed seed, exports THOSE weights to ONNX (opset 17, as export.py
does, batch dynamic, one file per input size), and then serves timed forward passes of the same
module on request, so the Node side can interleave ORT and PyTorch runs of identical weights.
Architecture and sizes are the shipped model's; only the weight values differ, which does not
change the cost of a dense CNN.

Protocol (one JSON object per line on stdin, one answer per line on stdout):
  {"op": "export", "size": S, "path": P}          -> {"ok": true, "gflopPerImage": G, "check": {...}}
      (check: a fixed input written raw to P + ".input.f32" and PyTorch's logits for it)
  {"op": "run", "size": S, "batch": B}            -> {"ms": <wall ms of one forward pass>}
  {"op": "quit"}
Run with Debian's python3 (torch 1.13): /usr/bin/python3 -m training.bench_runtime --threads N
"""
import argparse
import json
import sys
import time
from typing import Dict, Tuple

import numpy as np
import torch

from .model import build_model

OPSET = 17


def flops_per_image(model: torch.nn.Module, size: int) -> float:
    """Multiply-adds × 2 of every Conv2d and Linear for one image (other layers are < 1%)."""
    total = [0]

    def conv_hook(m: torch.nn.Conv2d, _inp, out) -> None:
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total[0] += 2 * k * out.numel()

    def linear_hook(m: torch.nn.Linear, _inp, out) -> None:
        total[0] += 2 * m.in_features * out.numel()

    hooks = []
    for mod in model.modules():
        if isinstance(mod, torch.nn.Conv2d):
            hooks.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, torch.nn.Linear):
            hooks.append(mod.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    return total[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    model = build_model("dual").eval()
    # Non-trivial BatchNorm statistics (fresh ones are identity) so the export's folding is exercised.
    g = torch.Generator().manual_seed(args.seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    inputs: Dict[Tuple[int, int], torch.Tensor] = {}
    out = sys.stdout
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), file=out, flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "quit":
            break
        if req["op"] == "export":
            size = int(req["size"])
            dummy = torch.zeros(1, 3, size, size)
            torch.onnx.export(model, dummy, req["path"], opset_version=OPSET, input_names=["image"], output_names=["logits"],
                              dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
            # Reference output on a fixed input: the Node side checks ORT's logits against it.
            x = torch.from_numpy(np.random.default_rng(size).standard_normal((2, 3, size, size), dtype=np.float32))
            with torch.no_grad():
                ref = model(x).numpy()
            x.numpy().astype("<f4").tofile(req["path"] + ".input.f32")
            print(json.dumps({"ok": True, "gflopPerImage": flops_per_image(model, size) / 1e9,
                              "check": {"inputFile": req["path"] + ".input.f32", "shape": list(x.shape),
                                        "logits": ref.ravel().tolist()}}), file=out, flush=True)
        elif req["op"] == "run":
            key = (int(req["size"]), int(req["batch"]))
            if key not in inputs:
                inputs[key] = torch.randn(key[1], 3, key[0], key[0])
            with torch.no_grad():
                t0 = time.perf_counter()
                model(inputs[key])
                ms = (time.perf_counter() - t0) * 1000
            print(json.dumps({"ms": ms}), file=out, flush=True)
        else:
            print(json.dumps({"error": f"unknown op {req['op']}"}), file=out, flush=True)


if __name__ == "__main__":
    main()
