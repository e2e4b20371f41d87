"""Export a trained checkpoint to ONNX (opset 17, dynamic batch) and write its model card.

    /usr/bin/python3 -m training.export --run-dir training/runs/demo --out models \
        --name ldh-dual-attention-resnext50 --version 2.0.0 --file ldh-dual-attention-resnext50-v2.onnx

The card's metrics, threshold and aggregation rule come from the run's result.json (chosen on
validation patients, reported on held-out test patients); nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Dict, Optional

import numpy as np
import onnx
import torch

from .card import sha256_file, write_card
from .contract import copy_input, output_section
from .export_placeholder import export_onnx
from .model import build_model, count_parameters

OPSET = 17
ARCH = {
    "dual": "SE-CBAM ResNeXt-50 32x4d (paper: Zhang et al., dual attention)",
    "se": "SE ResNeXt-50 32x4d (ablation: channel attention only)",
    "plain": "ResNeXt-50 32x4d (ablation: no attention)",
}


def load_model(ckpt_path: str) -> torch.nn.Module:
    ck = torch.load(ckpt_path)
    model = build_model(ck.get("variant", "dual"))
    model.load_state_dict(ck["model"])
    return model.eval()


def check_onnx(path: str, size: int) -> Dict[str, Any]:
    """Structural checks of the I/O contract (names, dtype, dynamic batch, opset)."""
    m = onnx.load(path)
    onnx.checker.check_model(m)
    (inp,), (out,) = m.graph.input, m.graph.output
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    odims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    info = {"input": inp.name, "output": out.name, "inputDims": dims, "outputDims": odims, "opset": opset}
    ok = (inp.name == "image" and out.name == "logits" and isinstance(dims[0], str) and dims[1:] == [3, size, size]
          and odims[1] == 2 and opset >= 17 and inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT)
    if not ok:
        raise AssertionError(f"ONNX I/O contract violated: {info}")
    return info


def write_parity_fixtures(model: torch.nn.Module, inputs: np.ndarray, out_dir: str) -> Dict[str, Any]:
    """Saves float32 little-endian inputs [N,3,S,S] and PyTorch logits/probabilities for the ORT test."""
    os.makedirs(out_dir, exist_ok=True)
    with torch.no_grad():
        logits = model.eval()(torch.from_numpy(inputs)).numpy().astype(np.float32)
    probs = torch.softmax(torch.from_numpy(logits).double(), dim=1)[:, 1].numpy()
    inputs.astype("<f4").tofile(os.path.join(out_dir, "inputs.f32"))
    logits.astype("<f4").tofile(os.path.join(out_dir, "torch-logits.f32"))
    probs.astype("<f8").tofile(os.path.join(out_dir, "torch-probs.f64"))
    meta = {"n": int(inputs.shape[0]), "size": int(inputs.shape[-1]), "inputs": "inputs.f32",
            "logits": "torch-logits.f32", "probs": "torch-probs.f64"}
    with open(os.path.join(out_dir, "parity.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return meta


def fmt(m: Dict[str, float]) -> str:
    return " | ".join(f"{m[k]:.4f}" for k in ("acc", "auc", "f1", "precision", "recall", "auprc"))


def within_type(run_dir: str) -> Dict[str, Any]:
    """``testImageAucWithinType`` from ``diagnose.json`` (training.diagnose), when it was run."""
    path = os.path.join(run_dir, "diagnose.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        d = json.load(f)
    return {"testImageAucWithinType": {r["type"]: {"images": r["images"], "ldh": r["ldh"], "auc": r["aucWithin"]}
                                       for r in d["types"]}}


def build_card(run_dir: str, name: str, version: str, file: str, sha: str, params: int,
               data_desc: Optional[str] = None) -> Dict[str, Any]:
    with open(os.path.join(run_dir, "result.json")) as f:
        res = json.load(f)
    with open(os.path.join(run_dir, "args.json")) as f:
        args = json.load(f)
    summary_path = os.path.join(run_dir, "summary.json")
    duration = None
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            duration = json.load(f).get("durationMin")
    size = int(args["size"])
    c = res["counts"]
    return {
        "schemaVersion": 1,
        "name": name,
        "version": version,
        "placeholder": False,
        "file": file,
        "sha256": sha,
        "architecture": ARCH[args["variant"]],
        "input": copy_input(size),
        "output": output_section(),
        "threshold": round(float(res["studyThreshold"]), 6),
        "aggregation": {"method": res["aggregation"], "k": 3,
                        "chosenOn": f"validation patients of the training split (best study-level AUC "
                                    f"{res['aggregationValAuc']:.4f} among mean/max/topk-mean)"},
        "training": {
            "data": data_desc or f"labels.csv dataset at {os.path.basename(os.path.normpath(args['data']))}",
            "labels": ("per image (images.csv beside labels.csv)" if os.path.exists(os.path.join(args["data"], "images.csv"))
                       else "per study (every picked image inherits its study's label)"),
            "command": "/usr/bin/python3 -m training.train " + " ".join(
                f"--{k.replace('_', '-')} {os.path.relpath(v) if isinstance(v, str) and os.path.isabs(v) else v}"
                for k, v in args.items()
                if k in ("data", "run_dir", "size", "epochs", "batch", "lr", "weight_decay", "seed", "variant", "folds", "fold",
                         "max_steps", "max_studies", "balance") and v is not None),
            "seed": int(args["seed"]), "epochs": int(args["epochs"]), "bestEpoch": int(res["bestEpoch"]),
            "imageSize": size, "images": int(c["trainImages"]),
            "imagesPerEpoch": int(min(c["trainImages"] // args["batch"], args.get("max_steps") or 10**9) * args["batch"]),
            "durationMin": round(float(duration if duration is not None else res["trainSeconds"] / 60), 1),
            "optimizer": f"AdamW lr {args['lr']} weight decay {args['weight_decay']}, batch {args['batch']}",
            "parameters": params,
        },
        "metrics": {
            "split": f"patient-grouped: train {c['trainStudies']} / val {c['valStudies']} / test {c['testStudies']} studies "
                     f"({c['trainImages']}/{c['valImages']}/{c['testImages']} images, {c['patients']} patients)",
            "imageThreshold": round(float(res["imageThreshold"]), 6),
            "testImage": res["test"]["image"], "testStudy": res["test"]["study"],
            "valImage": res["val"]["image"], "valStudy": res["val"]["study"],
            **within_type(run_dir),
        },
        "intendedUse": "research and integration testing only",
        "disclaimer": "Trained on synthetic phantoms only — not for clinical use.",
    }


def roi_text(inp: Dict[str, Any]) -> str:
    """The card's ROI per series role in words (empty for ldh-input-v1, which has none)."""
    roi = inp.get("roi")
    if not roi:
        return ""
    parts = [f"{role} {r['sideMm']:g} mm square at (row, column) {r['centre'][0]:g}, {r['centre'][1]:g} of the image"
             for role, r in roi.items()]
    return "region of interest per series role (" + "; ".join(parts) + "), "


def card_markdown(card: Dict[str, Any]) -> str:
    m, t = card["metrics"], card["training"]
    return f"""# {card['name']} {card['version']}

**{card['disclaimer']}** Intended use: {card['intendedUse']}.

- Architecture: {card['architecture']} — {t['parameters']:,} parameters (see training/model.py).
- File: `{card['file']}` (sha256 `{card['sha256']}`), ONNX opset {OPSET}, dynamic batch, fp32.
- Input `image` float32 NCHW [N,3,{card['input']['size']},{card['input']['size']}], contract `{card['input']['contract']}`
  (training/INPUT_CONTRACT.md): {roi_text(card['input'])}percentile window 0.5–99.5 %, zero-pad to square, `{card['input']['resize']}` resize,
  3 identical channels, (x − 0.5)/0.25. Slices: 3 central sagittal per T1/T2 sagittal series, ≤ 15 axial.
- Output `logits` [N,2], classes {card['output']['classOrder']}, p = softmax(logits)[1].
- Study decision: {card['aggregation']['method']} of image probabilities (k = 3 for topk-mean), ldh if ≥ {card['threshold']}
  (threshold maximising Youden's J on validation patients; chosen on {card['aggregation']['chosenOn']}).

## Training
- Data: {t['data']}; labels {t.get('labels', 'per study')}
- Command: `{t['command']}`
- Seed {t['seed']}, {t['epochs']} epochs (best epoch {t['bestEpoch']} by validation image AUC), {t['optimizer']},
  {t['images']} training images at {t['imageSize']} px ({t['imagesPerEpoch']} drawn at random per epoch),
  {t['durationMin']} min on 2 shared CPU cores.
- Augmentation (paper §3.2): rotation ±10°, horizontal flip, horizontal translation ±0.1, scale 0.8–1, Gaussian noise σ 0.01–0.05.

## Held-out test metrics ({m['split']})
| Level | ACC | AUC | F1-score | Precision | Recall | AUPRC |
|---|---|---|---|---|---|---|
| per image (threshold {m['imageThreshold']:.3f}) | {fmt(m['testImage'])} |
| per study ({card['aggregation']['method']}, threshold {card['threshold']:.3f}) | {fmt(m['testStudy'])} |
{within_type_markdown(m)}
{verdict(card)}These are single-split figures on synthetic phantoms; they say nothing about performance on real MRI.
"""


def within_type_markdown(m: Dict[str, Any]) -> str:
    """The test AUC within each image type (axial level / series role): the lesion signal without base rates."""
    w = m.get("testImageAucWithinType")
    if not w:
        return ""
    rows = "\n".join(f"| {t} | {r['images']} | {r['ldh']} | {'n/a' if r['auc'] is None else format(r['auc'], '.3f')} |"
                      for t, r in w.items())
    return ("\nAUC within each image type on the same test images (a model that only learned how often each type is "
            "\"ldh\" scores 0.5 here; `python3 -m training.diagnose`):\n\n"
            "| image type | images | ldh | AUC within type |\n|---|---|---|---|\n" + rows + "\n")


def verdict(card: Dict[str, Any]) -> str:
    """A plain statement when the model is no better than chance, so nobody mistakes it for a classifier."""
    auc = card["metrics"]["testStudy"].get("auc")
    if auc is not None and auc == auc and auc < 0.7:
        return (f"**Not a usable classifier: held-out study AUC {auc:.2f} (0.5 is chance).** It exercises the pipeline "
                f"with the paper's real architecture and I/O contract; do not read its outputs as findings.\n\n")
    return ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--out", default="models")
    ap.add_argument("--name", default="ldh-dual-attention-resnext50")
    ap.add_argument("--version", default="2.0.0")
    ap.add_argument("--file", default="ldh-dual-attention-resnext50-v2.onnx")
    ap.add_argument("--data-desc", default=None)
    args = ap.parse_args()
    model = load_model(os.path.join(args.run_dir, "best.pt"))
    with open(os.path.join(args.run_dir, "args.json")) as f:
        size = int(json.load(f)["size"])
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, args.file)
    export_onnx(model, onnx_path, size, OPSET)
    print(check_onnx(onnx_path, size))
    card = build_card(args.run_dir, args.name, args.version, args.file, sha256_file(onnx_path), count_parameters(model),
                      args.data_desc)
    json_path = os.path.join(args.out, os.path.splitext(args.file)[0] + ".json")
    write_card(card, json_path, card_markdown(card))
    print(f"wrote {onnx_path} and {json_path}")


if __name__ == "__main__":
    main()
