"""Train the LDH classifier on a folder of DICOM studies + labels.csv (patient-grouped splits).

    /usr/bin/python3 -m training.train --data training/data/phantom --run-dir training/runs/demo \
        --size 128 --epochs 8 --batch 32 --seed 1 [--resume] [--cv] [--variant dual]

Holdout mode (default): test = 1/k of the patients (k = --folds 5 → the paper's 80/20 split),
val = 1/5 of the remaining patients, train = the rest. ``--cv`` repeats this for every test fold
and reports mean ± sd (Table 1 format). The best epoch (validation image AUC), the study
aggregation rule and the threshold are chosen on validation data only; test patients are used
once, for the reported metrics. A checkpoint is written after every epoch; ``--resume``
continues an interrupted run from it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .augment import augment_batch
from .contract import DEFAULT_INPUT
from .dataset import ImageSet, load_dataset
from .metrics import aggregate, choose_aggregation, choose_threshold, format_table, mean_sd, table_metrics
from .model import VARIANTS, build_model
from .split import assert_disjoint_patients, split_indices

MEAN = DEFAULT_INPUT["normalisation"]["mean"]
STD = DEFAULT_INPUT["normalisation"]["std"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def to_input(unit: torch.Tensor) -> torch.Tensor:
    """[N,1,S,S] in [0,1] → the model input [N,3,S,S] of the contract."""
    return ((unit - MEAN) / STD).expand(-1, 3, -1, -1).contiguous()


@torch.no_grad()
def predict(model: torch.nn.Module, images: np.ndarray, batch: int = 64) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        x = to_input(torch.from_numpy(images[i:i + batch]).unsqueeze(1))
        out.append(torch.softmax(model(x), dim=1)[:, 1].double().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def save_atomic(obj: Any, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def image_mask(ds: ImageSet, studies: np.ndarray) -> np.ndarray:
    return np.isin(ds.study, studies)


def balanced_strata(roles: np.ndarray, labels: np.ndarray) -> List[np.ndarray]:
    """Index arrays of the non-empty (series role, class) groups of the training images."""
    out = [np.flatnonzero((roles == r) & (labels == c)) for r in sorted(set(roles.tolist())) for c in (0, 1)]
    return [g for g in out if len(g)]


def balanced_batch(strata: List[np.ndarray], batch: int, gen: torch.Generator) -> np.ndarray:
    """A batch with (nearly) equal counts from every (role, class) group, drawn with replacement.

    Without it the network can score well per image by learning each image type's base rate
    (sagittal slices of the phantom sets are "ldh" ~55 % of the time, L3-L4 axial ones ~13 %)
    instead of the lesion; with every role at 50 % ldh that shortcut is worth nothing.
    """
    order = torch.randperm(len(strata), generator=gen).tolist()
    picks = []
    for k in range(batch):
        g = strata[order[k % len(strata)]]
        picks.append(int(g[int(torch.randint(len(g), (1,), generator=gen))]))
    return np.asarray(picks, dtype=np.int64)


def train_fold(ds: ImageSet, args: argparse.Namespace, fold: int, run_dir: str) -> Dict[str, Any]:
    os.makedirs(run_dir, exist_ok=True)
    pids = [s.patient_id for s in ds.studies]
    ys = [s.label for s in ds.studies]
    tr_s, va_s, te_s = split_indices(pids, ys, args.folds, fold, args.seed)
    assert_disjoint_patients(pids, tr_s, va_s, te_s)
    tr, va, te = image_mask(ds, tr_s), image_mask(ds, va_s), image_mask(ds, te_s)
    x_tr, y_tr = ds.images[tr], ds.labels[tr]
    strata = balanced_strata(np.asarray(ds.roles)[tr], y_tr) if args.balance == "role" else None
    log(f"fold {fold}: studies train/val/test {len(tr_s)}/{len(va_s)}/{len(te_s)}, "
        f"images {int(tr.sum())}/{int(va.sum())}/{int(te.sum())}, train ldh fraction {y_tr.mean():.2f}")

    torch.manual_seed(args.seed + fold)
    model = build_model(args.variant)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = max(1, len(x_tr) // args.batch)
    if args.max_steps:
        steps_per_epoch = min(steps_per_epoch, args.max_steps)
    total_steps = steps_per_epoch * args.epochs
    # Class-balanced loss: phantom sets are ~balanced, a site's data may not be.
    pos_frac = float(y_tr.mean()) if len(y_tr) else 0.5
    weights = torch.tensor([0.5 / max(1e-6, 1 - pos_frac), 0.5 / max(1e-6, pos_frac)], dtype=torch.float32)
    if strata is not None:  # balanced batches already give each class half of every role
        weights = torch.ones(2, dtype=torch.float32)
    history: List[Dict[str, float]] = []
    start_epoch, best_auc = 0, -1.0
    prior_seconds = 0.0  # training time of the epochs a resumed run inherits
    ckpt_path = os.path.join(run_dir, "checkpoint.pt")
    best_path = os.path.join(run_dir, "best.pt")
    gen = torch.Generator().manual_seed(args.seed * 1000 + fold)
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        gen.set_state(ck["generator"])
        start_epoch, best_auc, history = ck["epoch"] + 1, ck["best_auc"], ck["history"]
        prior_seconds = float(ck.get("trainSeconds", 0.0))
        log(f"resumed from epoch {ck['epoch'] + 1} (best val AUC {best_auc:.4f})")
    t0 = time.time()
    done_steps = 0
    for epoch in range(start_epoch, args.epochs):
        model.train()
        perm = torch.randperm(len(x_tr), generator=gen).numpy()
        run_loss, seen = 0.0, 0
        for step in range(steps_per_epoch):
            idx = (balanced_batch(strata, args.batch, gen) if strata is not None
                   else perm[step * args.batch:(step + 1) * args.batch])
            x = torch.from_numpy(x_tr[idx]).unsqueeze(1)
            x = to_input(augment_batch(x, gen))
            y = torch.from_numpy(y_tr[idx])
            loss = F.cross_entropy(model(x), y, weight=weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            run_loss += float(loss) * len(idx)
            seen += len(idx)
            done_steps += 1
            if (step + 1) % args.log_every == 0 or step + 1 == steps_per_epoch:
                el = time.time() - t0
                left = (total_steps - epoch * steps_per_epoch - step - 1) * el / done_steps
                log(f"epoch {epoch + 1}/{args.epochs} step {step + 1}/{steps_per_epoch} loss {run_loss / seen:.4f} "
                    f"{el / (done_steps * args.batch):.3f} s/img ETA {left / 60:.1f} min (+eval)")
        p_va = predict(model, ds.images[va]) if va.any() else np.zeros(0)
        from .metrics import auc_roc
        va_auc = auc_roc(ds.labels[va], p_va) if va.any() else float("nan")
        history.append({"epoch": epoch + 1, "trainLoss": run_loss / max(1, seen), "valImageAuc": va_auc})
        log(f"epoch {epoch + 1} done: train loss {run_loss / max(1, seen):.4f}, val image AUC {va_auc:.4f}")
        if not (va_auc <= best_auc):  # NaN-safe: first epoch always saved
            best_auc = va_auc if va_auc == va_auc else best_auc
            save_atomic({"model": model.state_dict(), "epoch": epoch, "variant": args.variant, "size": args.size}, best_path)
        save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
                     "epoch": epoch, "best_auc": best_auc, "history": history,
                     "trainSeconds": prior_seconds + time.time() - t0}, ckpt_path)

    best = torch.load(best_path)
    model.load_state_dict(best["model"])
    p_va, p_te = predict(model, ds.images[va]), predict(model, ds.images[te])
    y_va_img, y_te_img = ds.labels[va], ds.labels[te]
    st_va, st_te = ds.study[va], ds.study[te]
    y_va_st = np.array([ds.studies[i].label for i in va_s])
    y_te_st = np.array([ds.studies[i].label for i in te_s])
    agg, agg_auc = choose_aggregation(p_va, st_va, va_s, y_va_st)
    pst_va = aggregate(p_va, st_va, va_s, agg)
    pst_te = aggregate(p_te, st_te, te_s, agg)
    thr_img = choose_threshold(y_va_img, p_va)
    thr_st = choose_threshold(y_va_st, pst_va)
    result = {
        "fold": fold, "bestEpoch": int(best["epoch"]) + 1, "history": history,
        "aggregation": agg, "aggregationValAuc": agg_auc,
        "imageThreshold": thr_img, "studyThreshold": thr_st,
        "val": {"image": table_metrics(y_va_img, p_va, thr_img), "study": table_metrics(y_va_st, pst_va, thr_st)},
        "test": {"image": table_metrics(y_te_img, p_te, thr_img), "study": table_metrics(y_te_st, pst_te, thr_st)},
        "counts": {"trainStudies": len(tr_s), "valStudies": len(va_s), "testStudies": len(te_s),
                   "trainImages": int(tr.sum()), "valImages": int(va.sum()), "testImages": int(te.sum()),
                   "patients": len(set(pids))},
        "trainSeconds": prior_seconds + time.time() - t0,
    }
    with open(os.path.join(run_dir, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
    log(f"fold {fold} test: image AUC {result['test']['image']['auc']:.4f}, study AUC {result['test']['study']['auc']:.4f} "
        f"({agg}, threshold {thr_st:.3f})")
    return result


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder with labels.csv and the study folders")
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (paper: 0.001)")
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variant", choices=VARIANTS, default="dual")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fold", type=int, default=0, help="test fold in holdout mode")
    ap.add_argument("--cv", action="store_true", help="run every fold, report mean ± sd")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--max-studies", type=int)
    ap.add_argument("--max-steps", type=int, help="cap steps per epoch (smoke tests)")
    ap.add_argument("--balance", choices=("none", "role"), default="none",
                    help="role: every batch holds equal numbers of each (series role, class) group")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache-dir", default=None, help="preprocessed-image cache (default <run-dir>/../cache)")
    return ap.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.run_dir, exist_ok=True)
    with open(os.path.join(args.run_dir, "args.json"), "w") as f:
        json.dump({**vars(args), "argv": sys.argv}, f, indent=2)
    t0 = time.time()
    cache = args.cache_dir or os.path.join(os.path.dirname(os.path.abspath(args.run_dir)), "cache")
    ds = load_dataset(args.data, args.size, max_studies=args.max_studies, cache_dir=cache, progress=log)
    load_seconds = time.time() - t0
    log(f"dataset: {len(ds.studies)} studies, {len(ds.images)} images of {args.size} px "
        f"({time.time() - t0:.0f} s), ldh image fraction {ds.labels.mean():.2f}")
    folds = range(args.folds) if args.cv else [args.fold]
    results = [train_fold(ds, args, f, os.path.join(args.run_dir, f"fold{f}") if args.cv else args.run_dir) for f in folds]
    summary: Dict[str, Any] = {"folds": results, "variant": args.variant, "size": args.size, "epochs": args.epochs,
                               "durationMin": (load_seconds + sum(r["trainSeconds"] for r in results)) / 60}
    if args.cv:
        for level in ("image", "study"):
            ms = mean_sd([r["test"][level] for r in results])
            summary[f"test_{level}_mean_sd"] = ms
        md = ""
        for level in ("image", "study"):
            ms = summary[f"test_{level}_mean_sd"]
            md += format_table(f"{args.variant}, per {level}, {args.folds}-fold CV (test folds), mean ± sd",
                               [(args.variant, {k: v[0] for k, v in ms.items()})],
                               {args.variant: {k: v[1] for k, v in ms.items()}}) + "\n"
        summary["table"] = md
        print(md)
    with open(os.path.join(args.run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary


if __name__ == "__main__":
    main()
