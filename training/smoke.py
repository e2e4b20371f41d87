"""CI smoke run of the whole Python side, and the fixtures of the cross-language parity tests.

    /usr/bin/python3 -m training.smoke [--out DIR] [--skip-unittests]

1. runs the Python unit tests (training/tests);
2. writes a few synthetic DICOM studies (training/synth.py), trains the real ResNeXt-50 + dual
   attention model for a few steps at 32 px, exports it to ONNX and checks the I/O contract;
3. writes under DIR the fixtures that packages/model/src/parity.int.test.ts compares against:
   ``parity/`` (32 model inputs + PyTorch logits → onnxruntime-node must agree to 1e-4 in p),
   ``preprocess/`` (DICOM files + Python-preprocessed tensors → the TypeScript pipeline must
   agree to 1e-3), ``slices.json`` (Python slice selection → TypeScript must pick the same UIDs).

Runs in about a minute on 2 cores. DIR defaults to a fresh temporary folder (printed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

import numpy as np


def run_unittests() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    suite = unittest.defaultTestLoader.discover(os.path.join(here, "tests"), top_level_dir=os.path.dirname(here))
    res = unittest.TextTestRunner(verbosity=1).run(suite)
    if not res.wasSuccessful():
        raise SystemExit("python unit tests failed")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip-unittests", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    out = args.out or tempfile.mkdtemp(prefix="ldh-smoke-")
    os.makedirs(out, exist_ok=True)
    if not args.skip_unittests:
        run_unittests()

    import pydicom
    import torch

    from . import train
    from .contract import input_section
    from .dataset import study_series
    from .export import OPSET, build_card, check_onnx, load_model, write_parity_fixtures
    from .export_placeholder import export_onnx
    from .card import sha256_file, write_card
    from .export import card_markdown
    from .model import count_parameters
    from .preprocess import preprocess_dicom
    from .slices import ROLES, select_slices
    from .synth import write_dataset

    data = os.path.join(out, "data")
    shutil.rmtree(data, ignore_errors=True)
    write_dataset(data, 8, seed=3)
    size = 32
    run_dir = os.path.join(out, "run")
    train.main(["--data", data, "--run-dir", run_dir, "--size", str(size), "--epochs", "2", "--batch", "8",
                "--max-steps", "2", "--log-every", "1", "--seed", "1"])
    # Resume path: a third epoch continues from the epoch-2 checkpoint.
    train.main(["--data", data, "--run-dir", run_dir, "--size", str(size), "--epochs", "3", "--batch", "8",
                "--max-steps", "1", "--log-every", "1", "--seed", "1", "--resume"])
    with open(os.path.join(run_dir, "result.json")) as f:
        res = json.load(f)
    if len(res["history"]) != 3:
        raise SystemExit(f"resume failed: history has {len(res['history'])} epochs")

    model = load_model(os.path.join(run_dir, "best.pt"))
    onnx_path = os.path.join(out, "model.onnx")
    export_onnx(model, onnx_path, size, OPSET)
    info = check_onnx(onnx_path, size)
    card = build_card(run_dir, "ldh-smoke", "0.0.0-smoke", "model.onnx", sha256_file(onnx_path), count_parameters(model),
                      "synthetic pydicom studies (training/synth.py), smoke run")
    write_card(card, os.path.join(out, "model.json"), card_markdown(card))

    # 32 inputs for the ORT-vs-PyTorch parity test: real preprocessed images, plus noise for range.
    from .dataset import load_dataset
    ds = load_dataset(data, size)
    rng = np.random.default_rng(0)
    unit = ds.images[rng.choice(len(ds.images), 24, replace=False)]
    unit = np.concatenate([unit, rng.uniform(0, 1, size=(8, size, size)).astype(np.float32)])
    from .preprocess import normalise
    parity = write_parity_fixtures(model, normalise(unit.astype(np.float64)), os.path.join(out, "parity"))

    # Preprocessing fixtures at the production size (128): one file per encoding variant.
    pre_dir = os.path.join(out, "preprocess")
    os.makedirs(pre_dir, exist_ok=True)
    cases = []
    seen = set()
    for case in sorted(os.listdir(data)):
        cdir = os.path.join(data, case)
        if not os.path.isdir(cdir):
            continue
        for name in sorted(os.listdir(cdir)):
            p = os.path.join(cdir, name)
            d = pydicom.dcmread(p)
            kind = (str(d.file_meta.TransferSyntaxUID), d.PhotometricInterpretation, int(d.PixelRepresentation),
                    "RescaleSlope" in d, d.Rows == d.Columns)
            if kind in seen:
                continue
            seen.add(kind)
            contract = input_section(128)
            role = ROLES[len(cases) % len(ROLES)]
            x = preprocess_dicom(p, contract, role=role)
            tag = f"pre{len(cases):02d}"
            shutil.copyfile(p, os.path.join(pre_dir, tag + ".dcm"))
            x.astype("<f4").tofile(os.path.join(pre_dir, tag + ".f32"))
            cases.append({"dicom": tag + ".dcm", "expected": tag + ".f32", "size": 128, "role": role,
                          "kind": [str(k) for k in kind]})
    # Plus phantom-sized images (the downsampling path of the resize) and a non-square signed one.
    from .synth import synth_image, write_image
    big_rng = np.random.default_rng(5)
    # The ROI of each role is cut in millimetres: square, non-square and large pixels.
    for rows, cols, signed, mono1, spacing in ((320, 320, False, False, [0.85, 0.85]), (300, 257, True, False, [0.7, 0.9]),
                                                (130, 200, False, True, [1.6, 1.6])):
        tag = f"pre{len(cases):02d}"
        role = ROLES[len(cases) % len(ROLES)]
        p = os.path.join(pre_dir, tag + ".dcm")
        write_image(p, synth_image(big_rng, rows, cols, True, signed), study_uid="2.25.11", series_uid="2.25.12",
                    sop_uid=f"2.25.13{len(cases)}", patient_id="SMOKE", series_desc="SAG T2", echo_time=100.0,
                    iop=[0, 1, 0, 0, 0, -1], ipp=[0, 0, 0], instance_number=1, slope=1.5 if signed else 1.0,
                    intercept=-20.0 if signed else 0.0, monochrome1=mono1, pixel_spacing=spacing)
        preprocess_dicom(p, input_section(128), role=role).astype("<f4").tofile(os.path.join(pre_dir, tag + ".f32"))
        cases.append({"dicom": tag + ".dcm", "expected": tag + ".f32", "size": 128, "role": role,
                      "kind": [f"{rows}x{cols}", "int16+LUT" if signed else "uint16", "MONOCHROME1" if mono1 else "MONOCHROME2",
                               f"spacing {spacing[0]}x{spacing[1]} mm"]})
    with open(os.path.join(pre_dir, "cases.json"), "w") as f:
        json.dump({"contract": input_section(128), "cases": cases}, f, indent=2)

    # Slice selection fixtures: every synthetic study, series with geometry, Python's choice.
    studies = []
    for case in sorted(os.listdir(data)):
        cdir = os.path.join(data, case)
        if not os.path.isdir(cdir):
            continue
        series = [{"role": s["role"], "instances": s["instances"]} for s in study_series(cdir)]
        studies.append({"series": series, "selected": select_slices(series)})
    with open(os.path.join(out, "slices.json"), "w") as f:
        json.dump({"sliceSelection": input_section(128)["sliceSelection"], "studies": studies}, f, indent=2)

    manifest = {"onnx": "model.onnx", "card": "model.json", "onnxInfo": info, "parity": "parity/parity.json",
                "parityN": parity["n"], "preprocess": "preprocess/cases.json", "preprocessCases": len(cases),
                "slices": "slices.json", "seconds": round(time.time() - t0, 1)}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(json.dumps({"smokeDir": out, **manifest}))
    torch.set_num_threads(torch.get_num_threads())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
