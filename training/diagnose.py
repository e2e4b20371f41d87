"""Where does a trained model's image-level signal come from? AUC within each image type.

    /usr/bin/python3 -m training.diagnose --data training/data/phantom-easy-s1 --run-dir training/runs/demo-v2 --size 128

Scores the run's ``best.pt`` on its test fold (same patient-grouped split as ``train``) and
prints (and writes to ``<run-dir>/diagnose.json``, which export.py copies into the model card), per image type (axial level from ``images.csv``, else the series role), the number of
images, how many are "ldh", the mean probability and the AUC *within* that type. A model that
only learned the base rate of each type (e.g. "sagittal slices are usually ldh") has a good
overall image AUC but ~0.5 within every type — see RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from typing import Dict, List

import numpy as np
import torch

from .dataset import load_dataset, selected_images
from .export import load_model
from .metrics import auc_roc
from .split import split_indices
from .train import image_mask, predict


def image_types(data_dir: str, ds) -> np.ndarray:
    """Per image of ``ds`` (same order as load_dataset): its axial level from images.csv, else its role."""
    levels: Dict[str, str] = {}
    images_csv = os.path.join(data_dir, "images.csv")
    if os.path.exists(images_csv):
        with open(images_csv, newline="") as f:
            levels = {r["sop_instance_uid"]: (r.get("level") or "").strip() for r in csv.DictReader(f)}
    out: List[str] = []
    for st in ds.studies:
        for im in selected_images(os.path.join(data_dir, st.case_dir)):
            lv = levels.get(im["sop"], "")
            out.append(f"axial {lv}" if lv else im["role"])
    return np.asarray(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-studies", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache-dir", default=None, help="preprocessed-image cache (default <run-dir>/../cache)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cache = args.cache_dir or os.path.join(os.path.dirname(os.path.abspath(args.run_dir)), "cache")
    ds = load_dataset(args.data, args.size, max_studies=args.max_studies, cache_dir=cache)
    types = image_types(args.data, ds)
    _tr, _va, te = split_indices([s.patient_id for s in ds.studies], [s.label for s in ds.studies], args.folds, args.fold, args.seed)
    m = image_mask(ds, te)
    p, y, t = predict(load_model(os.path.join(args.run_dir, "best.pt")), ds.images[m]), ds.labels[m], types[m]
    rows = []
    for g in sorted(set(t.tolist())):
        k = t == g
        pos = int(y[k].sum())
        rows.append({"type": g, "images": int(k.sum()), "ldh": pos, "meanP": float(p[k].mean()),
                     "aucWithin": auc_roc(y[k], p[k]) if 0 < pos < int(k.sum()) else None})
    print(f"test fold {args.fold}: {int(m.sum())} images, overall image AUC {auc_roc(y, p):.4f}")
    print("| type | images | ldh | mean p | AUC within type |\n|---|---|---|---|---|")
    for r in rows:
        auc = "n/a" if r["aucWithin"] is None else f"{r['aucWithin']:.3f}"
        print(f"| {r['type']} | {r['images']} | {r['ldh']} | {r['meanP']:.3f} | {auc} |")
    out = {"fold": args.fold, "overallImageAuc": auc_roc(y, p), "types": rows}
    with open(os.path.join(args.run_dir, "diagnose.json"), "w") as f:
        json.dump(out, f, indent=2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
