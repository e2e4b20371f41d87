"""Tiny synthetic DICOM studies written with pydicom, for unit tests and the CI smoke run.

Not a phantom of the spine (that is @ldh/phantom): just enough geometry (three series with
realistic orientations and positions, shuffled instance numbers), pixel encodings (uint16,
int16 with a Modality LUT, MONOCHROME1) and a learnable label (a bright blob for "ldh") to
exercise every branch of the input contract and the training loop quickly.
"""

from __future__ import annotations

import csv
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ROOT = "2.25."


def _uid(rng: np.random.Generator) -> str:
    return ROOT + str(int(rng.integers(1, 2**62)) * 1000003 + int(rng.integers(0, 10**6)))


def write_image(path: str, pixels: np.ndarray, *, study_uid: str, series_uid: str, sop_uid: str, patient_id: str,
                series_desc: str, echo_time: float, iop: List[float], ipp: List[float], instance_number: int,
                slope: float = 1.0, intercept: float = 0.0, monochrome1: bool = False, implicit: bool = False,
                pixel_spacing: Optional[List[float]] = None) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MR_STORAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    meta.ImplementationClassUID = generate_uid(prefix="1.2.826.0.1.3680043.8.498.")
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = implicit
    ds.SOPClassUID = MR_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.PatientID = patient_id
    ds.PatientName = "SYNTH^" + patient_id
    ds.Modality = "MR"
    ds.SeriesDescription = series_desc
    ds.EchoTime = echo_time
    ds.InstanceNumber = instance_number
    ds.ImageOrientationPatient = [float(v) for v in iop]
    ds.ImagePositionPatient = [float(v) for v in ipp]
    ds.PixelSpacing = [float(v) for v in (pixel_spacing or [1.0, 1.0])]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if monochrome1 else "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    signed = pixels.dtype == np.int16
    ds.PixelRepresentation = 1 if signed else 0
    if slope != 1.0 or intercept != 0.0:
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept
    ds.PixelData = pixels.astype(np.int16 if signed else np.uint16).tobytes()
    ds.save_as(path, write_like_original=False)


def synth_image(rng: np.random.Generator, rows: int, cols: int, positive: bool, signed: bool) -> np.ndarray:
    yy, xx = np.mgrid[0:rows, 0:cols]
    img = 300 + 200 * np.exp(-(((yy - rows / 2) / (rows / 3)) ** 2 + ((xx - cols / 2) / (cols / 4)) ** 2))
    if positive:
        cy, cx = rng.uniform(0.35, 0.65) * rows, rng.uniform(0.35, 0.65) * cols
        img += 900 * np.exp(-(((yy - cy) / (rows / 10)) ** 2 + ((xx - cx) / (cols / 10)) ** 2))
    img += rng.normal(0, 25, size=img.shape)
    if signed:
        return np.clip(img - 700, -32768, 32767).astype(np.int16)
    return np.clip(img, 0, 4095).astype(np.uint16)


def write_study(out_dir: str, case_index: int, positive: bool, seed: int, rows: int = 40, cols: int = 48,
                sag_slices: int = 7, ax_slices: int = 18) -> Tuple[str, str, str]:
    """One study of three series; returns (study_uid, patient_id, case_dir relative to out_dir)."""
    rng = np.random.default_rng(seed * 7919 + case_index)
    study_uid = _uid(rng)
    patient_id = f"SY{case_index // 2:04d}"  # two studies per patient: exercises grouped splits
    case_rel = f"case{case_index:04d}"
    case_dir = os.path.join(out_dir, case_rel)
    os.makedirs(case_dir, exist_ok=True)
    sag_iop = [0, 1, 0, 0, 0, -1]
    ax_iop = [1, 0, 0, 0, 1, 0]
    series = [
        ("t1_sag", "SAG T1 TSE", 12.0, sag_iop, sag_slices, lambda k: [-20.0 + 4.0 * k, -100.0, 100.0]),
        ("t2_sag", "SAG T2 TSE", 100.0, sag_iop, sag_slices, lambda k: [-20.0 + 4.0 * k, -100.0, 100.0]),
        ("t2_ax", "AX T2 TSE", 100.0, ax_iop, ax_slices, lambda k: [-100.0, -100.0, 60.0 - 5.0 * k]),
    ]
    for si, (role, desc, te, iop, n, pos) in enumerate(series):
        series_uid = _uid(rng)
        order = rng.permutation(n)  # instance numbers deliberately not in spatial order
        for k in range(n):
            signed = role == "t2_ax" and case_index % 2 == 1
            pix = synth_image(rng, rows if role != "t2_ax" else cols, cols, positive, signed)
            sop = _uid(rng)
            write_image(
                os.path.join(case_dir, f"s{si}_{k:03d}.dcm"), pix, study_uid=study_uid, series_uid=series_uid,
                sop_uid=sop, patient_id=patient_id, series_desc=desc, echo_time=te, iop=iop, ipp=pos(k),
                instance_number=int(order[k]) + 1,
                slope=2.0 if signed else 1.0, intercept=-100.0 if signed else 0.0,
                monochrome1=(role == "t1_sag" and case_index % 3 == 2), implicit=(case_index % 4 == 3),
            )
    return study_uid, patient_id, case_rel


def write_dataset(out_dir: str, count: int, seed: int = 1, **kw) -> str:
    """Writes ``count`` studies (alternating labels) and ``labels.csv`` like @ldh/phantom does."""
    os.makedirs(out_dir, exist_ok=True)
    rows: List[Dict[str, str]] = []
    for i in range(count):
        positive = i % 2 == 0
        study_uid, pid, rel = write_study(out_dir, i, positive, seed, **kw)
        rows.append({"study_uid": study_uid, "patient_id": pid, "case_dir": rel, "label": "ldh" if positive else "healthy"})
    path = os.path.join(out_dir, "labels.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["study_uid", "patient_id", "case_dir", "label"])
        w.writeheader()
        w.writerows(rows)
    return path
