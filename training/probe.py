"""Is the signal in the data learnable at all? A small CNN on exactly the paper model's inputs.

    /usr/bin/python3 -m training.probe --data training/data/phantom-easy-s1 --size 64 --steps 600 --max-studies 120

When the paper's ResNeXt-50 stays at chance on a CPU budget, two explanations compete: the
images (phantom, contract, ROI, labels) carry no learnable lesion signal, or the big network needs
far more steps than the budget allows. This probe separates them cheaply: a 4-block CNN (~0.3 M
parameters, ~6 ms per image-step on 2 cores at 64 px) trained with the same cached contract
inputs, the same patient-grouped split (test fold ``--fold``), the same balanced (role, class)
batches and the paper's augmentations, printing the test AUC *within* each image type every
``--every`` steps (see diagnose.py for why within-type AUC is the honest image metric).
It is a diagnostic, not a model we ship.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn

from .augment import augment_batch
from .dataset import load_dataset
from .diagnose import image_types
from .metrics import auc_roc
from .split import split_indices
from .train import balanced_batch, balanced_strata, image_mask, log, predict, to_input


def probe_net() -> nn.Module:
    def block(i: int, o: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                             nn.Conv2d(o, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                             nn.MaxPool2d(2))

    return nn.Sequential(block(3, 16), block(16, 32), block(32, 64), block(64, 128),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 2))


def within_type_auc(y: np.ndarray, p: np.ndarray, types: np.ndarray) -> Dict[str, Optional[float]]:
    out: Dict[str, Optional[float]] = {}
    for g in sorted(set(types.tolist())):
        k = types == g
        pos = int(y[k].sum())
        out[g] = round(auc_roc(y[k], p[k]), 3) if 0 < pos < int(k.sum()) else None
    return out


def run(argv: Optional[List[str]] = None) -> Dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-studies", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache-dir", default=os.path.join("training", "runs", "cache"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    ds = load_dataset(args.data, args.size, max_studies=args.max_studies, cache_dir=args.cache_dir)
    types = image_types(args.data, ds)
    tr_s, _va_s, te_s = split_indices([s.patient_id for s in ds.studies], [s.label for s in ds.studies],
                                      args.folds, args.fold, args.seed)
    tr, te = image_mask(ds, tr_s), image_mask(ds, te_s)
    x_tr, y_tr = ds.images[tr], ds.labels[tr]
    strata = balanced_strata(np.asarray(ds.roles)[tr], y_tr)
    torch.manual_seed(args.seed)
    model = probe_net()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    last: Dict[str, object] = {}
    for step in range(args.steps):
        model.train()
        idx = balanced_batch(strata, args.batch, gen)
        x = augment_batch(torch.from_numpy(x_tr[idx]).unsqueeze(1), gen)
        loss = nn.functional.cross_entropy(model(to_input(x)), torch.from_numpy(y_tr[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % args.every == 0 or step + 1 == args.steps:
            p, y = predict(model, ds.images[te]), ds.labels[te]
            last = {"step": step + 1, "imageSteps": (step + 1) * args.batch, "seconds": round(time.time() - t0, 1),
                    "testImageAuc": round(auc_roc(y, p), 3), "aucWithinType": within_type_auc(y, p, types[te])}
            log(json.dumps(last))
    return last


if __name__ == "__main__":
    run()
