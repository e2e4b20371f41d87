"""Metrics of the paper's Table 1 (ACC, AUC, F1, Precision, Recall, AUPRC), aggregation, thresholds."""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

AGGREGATIONS = ("mean", "max", "topk-mean")
TOPK = 3


def auc_roc(y: np.ndarray, p: np.ndarray) -> float:
    """Eq. 14: P(s_T > s_N), ties counted ½ (Mann–Whitney U / n_T n_N)."""
    y = np.asarray(y).astype(bool)
    pos, neg = np.asarray(p)[y], np.asarray(p)[~y]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allp = np.concatenate([pos, neg])
    order = np.argsort(allp, kind="mergesort")
    ranks = np.empty(len(allp), dtype=np.float64)
    sorted_p = allp[order]
    i = 0
    while i < len(allp):
        j = i
        while j + 1 < len(allp) and sorted_p[j + 1] == sorted_p[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2.0
    return float(u / (len(pos) * len(neg)))


def auprc(y: np.ndarray, p: np.ndarray) -> float:
    """Eq. 15 as average precision: Σ (R_n − R_{n−1}) P_n over distinct score thresholds."""
    y = np.asarray(y).astype(bool)
    npos = int(y.sum())
    if npos == 0:
        return float("nan")
    order = np.argsort(-np.asarray(p), kind="mergesort")
    ps, ys = np.asarray(p)[order], y[order]
    tp = fp = 0
    ap = 0.0
    prev_r = 0.0
    i = 0
    while i < len(ps):
        j = i
        while j < len(ps) and ps[j] == ps[i]:
            tp += int(ys[j])
            fp += int(not ys[j])
            j += 1
        r = tp / npos
        ap += (r - prev_r) * (tp / (tp + fp))
        prev_r = r
        i = j
    return float(ap)


def threshold_metrics(y: np.ndarray, p: np.ndarray, t: float) -> Dict[str, float]:
    y = np.asarray(y).astype(bool)
    pred = np.asarray(p) >= t
    tp = int((pred & y).sum())
    tn = int((~pred & ~y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"acc": (tp + tn) / max(1, len(y)), "f1": f1, "precision": prec, "recall": rec}


def table_metrics(y: np.ndarray, p: np.ndarray, t: float) -> Dict[str, float]:
    m = threshold_metrics(y, p, t)
    return {"acc": m["acc"], "auc": auc_roc(y, p), "f1": m["f1"], "precision": m["precision"],
            "recall": m["recall"], "auprc": auprc(y, p), "n": int(len(y))}


def choose_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """Threshold maximising Youden's J (TPR − FPR) on validation data; ties → nearest 0.5.

    Candidates are midpoints between consecutive distinct scores, so the chosen value does not
    sit exactly on a validation score.
    """
    s = np.unique(np.asarray(p, dtype=np.float64))
    if len(s) < 2:
        return 0.5
    cands = np.concatenate([[s[0] / 2], (s[:-1] + s[1:]) / 2, [(s[-1] + 1) / 2]])
    y = np.asarray(y).astype(bool)
    best, best_t = -2.0, 0.5
    for t in cands:
        pred = np.asarray(p) >= t
        tpr = (pred & y).sum() / max(1, y.sum())
        fpr = (pred & ~y).sum() / max(1, (~y).sum())
        j = tpr - fpr
        if j > best + 1e-12 or (abs(j - best) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best, best_t = j, float(t)
    return best_t


def aggregate(p_img: np.ndarray, study: np.ndarray, n_studies_idx: np.ndarray, method: str, k: int = TOPK) -> np.ndarray:
    """Study probability from its image probabilities: mean, max, or mean of the top k."""
    out = np.zeros(len(n_studies_idx), dtype=np.float64)
    for j, s in enumerate(n_studies_idx):
        v = np.sort(p_img[study == s])[::-1]
        if len(v) == 0:
            out[j] = np.nan
        elif method == "mean":
            out[j] = v.mean()
        elif method == "max":
            out[j] = v[0]
        elif method == "topk-mean":
            out[j] = v[:k].mean()
        else:
            raise ValueError(method)
    return out


def choose_aggregation(p_img: np.ndarray, study: np.ndarray, study_ids: np.ndarray, y_study: np.ndarray) -> Tuple[str, float]:
    """The aggregation with the best validation study-level AUC (ties: mean < topk-mean < max order)."""
    best, best_auc = "mean", -1.0
    for m in AGGREGATIONS:
        a = auc_roc(y_study, aggregate(p_img, study, study_ids, m))
        if a == a and a > best_auc + 1e-12:
            best, best_auc = m, a
    return best, best_auc


def mean_sd(rows: List[Dict[str, float]]) -> Dict[str, Tuple[float, float]]:
    keys = [k for k in ("acc", "auc", "f1", "precision", "recall", "auprc") if k in rows[0]]
    return {k: (float(np.nanmean([r[k] for r in rows])), float(np.nanstd([r[k] for r in rows], ddof=1)) if len(rows) > 1 else 0.0)
            for k in keys}


def format_table(title: str, rows: Sequence[Tuple[str, Dict[str, float]]], sd: Dict[str, Dict[str, float]] = None) -> str:
    """Markdown table in the paper's Table 1 column order."""
    cols = ("acc", "auc", "f1", "precision", "recall", "auprc")
    out = [f"**{title}**", "", "| Method | ACC | AUC | F1-score | Precision | Recall | AUPRC |", "|---|---|---|---|---|---|---|"]
    for name, m in rows:
        cells = []
        for c in cols:
            if sd and name in sd:
                cells.append(f"{m[c]:.4f} ± {sd[name][c]:.4f}")
            else:
                cells.append(f"{m[c]:.4f}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"
