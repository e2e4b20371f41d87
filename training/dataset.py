"""Reading a folder of DICOM studies + ``labels.csv`` into per-image training arrays.

``labels.csv`` (as written by @ldh/phantom, or by a site for its own data) needs the columns
``study_uid, patient_id, case_dir, label`` (label "ldh" or "healthy"; other columns are kept but
unused). ``case_dir`` is relative to the CSV's folder and is searched recursively for DICOM
files. Each study's series are given roles from their headers and the contract's slice selection
picks the images.

Image labels: when ``images.csv`` (columns ``sop_instance_uid, label``; others ignored) sits beside
``labels.csv``, each picked image takes its own label from it (the paper labels images; the phantom
writes this file: an axial slice is "ldh" only when its own disc level is herniated). A picked
image missing from it is an error. Without the file every picked image inherits its study's label
(weak labels: most axial slices of an "ldh" study then show a healthy level).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import pydicom

from .contract import CONTRACT_ID, input_section
from .preprocess import unit_from_dicom
from .slices import role_from_header, select_slices


@dataclass
class StudyRow:
    study_uid: str
    patient_id: str
    case_dir: str
    label: int  # 1 = ldh


def read_labels(csv_path: str) -> List[StudyRow]:
    rows: List[StudyRow] = []
    with open(csv_path, newline="") as f:
        for r in csv.DictReader(f):
            lab = r["label"].strip().lower()
            if lab not in ("ldh", "healthy"):
                raise ValueError(f"{csv_path}: study {r.get('study_uid')} has label {lab!r}; expected ldh|healthy")
            rows.append(StudyRow(r["study_uid"], r["patient_id"], r["case_dir"], 1 if lab == "ldh" else 0))
    if not rows:
        raise ValueError(f"{csv_path}: no studies")
    return rows


def read_image_labels(csv_path: str) -> Dict[str, int]:
    """``images.csv`` → ``{sop_instance_uid: 1 (ldh) | 0 (healthy)}``."""
    out: Dict[str, int] = {}
    with open(csv_path, newline="") as f:
        for r in csv.DictReader(f):
            lab = r["label"].strip().lower()
            if lab not in ("ldh", "healthy"):
                raise ValueError(f"{csv_path}: image {r.get('sop_instance_uid')} has label {lab!r}; expected ldh|healthy")
            out[r["sop_instance_uid"].strip()] = 1 if lab == "ldh" else 0
    return out


def study_series(case_dir: str) -> List[Dict[str, Any]]:
    """Headers of every DICOM file under ``case_dir`` grouped into series with a role."""
    by_series: Dict[str, Dict[str, Any]] = {}
    for root, _dirs, files in os.walk(case_dir):
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:  # not DICOM (e.g. a README) — skip
                continue
            if "SOPInstanceUID" not in ds:
                continue
            role = role_from_header(ds)
            if role is None:
                continue
            s = by_series.setdefault(str(ds.SeriesInstanceUID), {"role": role, "instances": [], "paths": {}})
            sop = str(ds.SOPInstanceUID)
            s["instances"].append({
                "sopInstanceUid": sop,
                "imagePositionPatient": [float(v) for v in getattr(ds, "ImagePositionPatient", [])] or None,
                "imageOrientationPatient": [float(v) for v in getattr(ds, "ImageOrientationPatient", [])] or None,
                "instanceNumber": int(ds.InstanceNumber) if "InstanceNumber" in ds and ds.InstanceNumber is not None else None,
            })
            s["paths"][sop] = path
    return list(by_series.values())


def selected_images(case_dir: str) -> List[Dict[str, str]]:
    """``[{path, role, sop}]`` of the images the contract classifies, in a stable order."""
    out = []
    for s in sorted(study_series(case_dir), key=lambda s: s["role"]):
        picked = select_slices([{"role": s["role"], "instances": s["instances"]}])[s["role"]]
        out += [{"path": s["paths"][sop], "role": s["role"], "sop": sop} for sop in picked]
    return out


@dataclass
class ImageSet:
    """Per-image arrays: ``images`` [N,S,S] float32 in [0,1] (before normalisation)."""

    images: np.ndarray
    labels: np.ndarray  # int64 [N]
    study: np.ndarray  # int64 [N] index into studies
    roles: List[str]
    studies: List[StudyRow]


def load_dataset(data_dir: str, size: int, *, max_studies: Optional[int] = None, cache_dir: Optional[str] = None,
                 progress: Optional[Callable[[str], None]] = None) -> ImageSet:
    csv_path = os.path.join(data_dir, "labels.csv")
    studies = read_labels(csv_path)
    if max_studies is not None:
        studies = studies[:max_studies]
    images_csv = os.path.join(data_dir, "images.csv")
    image_labels = read_image_labels(images_csv) if os.path.exists(images_csv) else None
    key = hashlib.sha256(json.dumps([os.path.abspath(data_dir), size, CONTRACT_ID, input_section(size),
                                     [s.study_uid for s in studies],
                                     sorted(image_labels.items()) if image_labels is not None else None]).encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f"images-{key}.npz") if cache_dir else None
    if cache and os.path.exists(cache):
        z = np.load(cache, allow_pickle=False)
        return ImageSet(z["images"], z["labels"], z["study"], [str(r) for r in z["roles"]], studies)
    imgs: List[np.ndarray] = []
    labels: List[int] = []
    sidx: List[int] = []
    roles: List[str] = []
    for i, st in enumerate(studies):
        for im in selected_images(os.path.join(data_dir, st.case_dir)):
            imgs.append(unit_from_dicom(im["path"], size, role=im["role"]).astype(np.float32))
            if image_labels is None:
                labels.append(st.label)
            elif im["sop"] in image_labels:
                labels.append(image_labels[im["sop"]])
            else:
                raise ValueError(f"{images_csv}: no label for image {im['sop']} of study {st.study_uid}")
            sidx.append(i)
            roles.append(im["role"])
        if progress and (i + 1) % 25 == 0:
            progress(f"preprocessed {i + 1}/{len(studies)} studies, {len(imgs)} images")
    if not imgs:
        raise ValueError(f"{data_dir}: no classifiable images found")
    out = ImageSet(np.stack(imgs), np.asarray(labels, dtype=np.int64), np.asarray(sidx, dtype=np.int64), roles, studies)
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = cache + ".tmp.npz"
        np.savez(tmp, images=out.images, labels=out.labels, study=out.study, roles=np.asarray(roles))
        os.replace(tmp, cache)
    return out
