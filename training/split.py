"""Patient-grouped splits: no patient ever contributes images to both sides of a split.

The paper groups "the images of the same patient" with an extra marker; here the marker is the
DICOM PatientID column of labels.csv. Patients (not studies, not images) are dealt into folds,
stratified by the patient's label (ldh if any of their studies is ldh) so folds stay balanced.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np


def patient_folds(patient_ids: Sequence[str], labels: Sequence[int], k: int, seed: int) -> Dict[str, int]:
    """Patient → fold index in [0, k): stratified by label, shuffled with ``seed``."""
    if k < 2:
        raise ValueError("k must be >= 2")
    plabel: Dict[str, int] = {}
    for p, y in zip(patient_ids, labels):
        plabel[p] = max(plabel.get(p, 0), int(y))
    rng = np.random.default_rng(seed)
    fold: Dict[str, int] = {}
    offset = 0
    for y in (0, 1):
        group = sorted(p for p, v in plabel.items() if v == y)
        order = rng.permutation(len(group))
        for j, idx in enumerate(order):
            fold[group[idx]] = (j + offset) % k
        offset += len(group)
    return fold


def split_indices(patient_ids: Sequence[str], labels: Sequence[int], k: int, test_fold: int, seed: int,
                  val_fraction_k: int = 5) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Study indices (train, val, test) for one fold.

    test = patients of fold ``test_fold`` (1/k of patients; k=5 gives the paper's 80/20 split);
    val = 1/``val_fraction_k`` of the remaining patients (threshold, aggregation rule and best
    epoch are chosen on it); train = the rest.
    """
    pids = list(patient_ids)
    folds = patient_folds(pids, labels, k, seed)
    test = np.array([i for i, p in enumerate(pids) if folds[p] == test_fold], dtype=np.int64)
    rest = [i for i, p in enumerate(pids) if folds[p] != test_fold]
    inner = patient_folds([pids[i] for i in rest], [labels[i] for i in rest], val_fraction_k, seed + 1)
    val = np.array([i for i in rest if inner[pids[i]] == 0], dtype=np.int64)
    train = np.array([i for i in rest if inner[pids[i]] != 0], dtype=np.int64)
    return train, val, test


def assert_disjoint_patients(patient_ids: Sequence[str], *parts: np.ndarray) -> None:
    seen: List[set] = [set(patient_ids[i] for i in part) for part in parts]
    for a in range(len(seen)):
        for b in range(a + 1, len(seen)):
            both = seen[a] & seen[b]
            if both:
                raise AssertionError(f"{len(both)} patient(s) in two splits")
