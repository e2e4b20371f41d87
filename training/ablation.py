"""Ablation + k-fold cross-validation tables (paper Table 1 format, mean ± sd over test folds).

    nice -n 10 /usr/bin/python3 -m training.ablation --out training/runs/ablation \
        --set easy=training/data/phantom-easy-s1 --set hard=training/data/phantom-hard-s2 \
        --size 64 --epochs 3 --max-steps 16 --max-studies 100 --folds 5

For every data set and variant (plain ResNeXt-50, + SE, + SE + spatial = the paper's model) this
runs ``train --cv`` (patient-grouped k folds; threshold, aggregation and best epoch chosen on
each fold's validation patients) and writes ``ablation.md`` / ``ablation.json`` in --out. The
settings are deliberately reduced (image size, steps) so the whole grid fits beside a training
run on 2 cores; the table header states them.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from . import train
from .metrics import format_table
from .model import VARIANTS

NAMES = {"plain": "ResNeXt-50", "se": "ResNeXt-50 + SE", "dual": "ResNeXt-50 + SE + spatial (paper)"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", action="append", required=True, help="name=data_dir")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-steps", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-studies", type=int, default=100)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = {}
    t0 = time.time()
    md = [f"# Ablation and {args.folds}-fold cross-validation (synthetic phantoms)\n",
          f"Settings (reduced to fit 2 CPU cores): {args.size} px, {args.epochs} epochs × {args.max_steps} steps × batch "
          f"{args.batch}, AdamW lr 1e-3, seed {args.seed}, first {args.max_studies} studies of each set, "
          f"patient-grouped stratified folds; threshold/aggregation/best epoch chosen on validation patients "
          f"of each fold; metrics on the test fold, mean ± sd over folds.\n"]
    for spec in args.set:
        name, data = spec.split("=", 1)
        rows = {"image": [], "study": []}
        sds = {"image": {}, "study": {}}
        for v in args.variants.split(","):
            run_dir = os.path.join(args.out, name, v)
            summary = train.main(["--data", data, "--run-dir", run_dir, "--size", str(args.size), "--epochs", str(args.epochs),
                                  "--max-steps", str(args.max_steps), "--batch", str(args.batch), "--folds", str(args.folds),
                                  "--max-studies", str(args.max_studies), "--seed", str(args.seed), "--variant", v, "--cv",
                                  "--log-every", "8", "--threads", str(args.threads), "--cache-dir", os.path.join(args.out, "cache")])
            results[f"{name}/{v}"] = {k: summary[k] for k in ("test_image_mean_sd", "test_study_mean_sd", "durationMin")}
            for level in ("image", "study"):
                ms = summary[f"test_{level}_mean_sd"]
                rows[level].append((NAMES[v], {k: val[0] for k, val in ms.items()}))
                sds[level][NAMES[v]] = {k: val[1] for k, val in ms.items()}
            with open(os.path.join(args.out, "ablation.json"), "w") as f:
                json.dump(results, f, indent=2)
            # Partial tables after every variant, so an interrupted grid still reports what ran.
            partial = md + [format_table(f"{name} set, per {lv}", rows[lv], sds[lv]) for lv in ("image", "study")]
            with open(os.path.join(args.out, "ablation.md"), "w") as f:
                f.write("\n".join(partial) + f"\nElapsed {(time.time() - t0) / 60:.1f} min (in progress).\n")
        for level in ("image", "study"):
            md.append(format_table(f"{name} set, per {level}", rows[level], sds[level]))
        with open(os.path.join(args.out, "ablation.md"), "w") as f:
            f.write("\n".join(md) + f"\nTotal time {(time.time() - t0) / 60:.1f} min.\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
