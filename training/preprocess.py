"""Pixel pipeline of the ``ldh-input-v2`` contract (Python reference implementation).

stored value → Modality LUT (RescaleSlope/Intercept) → region of interest of the series role (a
square in millimetres) → percentile window of the ROI to [0,1] →
(MONOCHROME1: 1 − x) → zero-pad to a centred square → triangle-filter resize to S×S →
replicate to 3 channels → (x − mean)/std.

Everything is computed in float64 and cast to float32 at the end; the TypeScript twin
(packages/model/src/preprocess.ts) performs the same arithmetic in JavaScript doubles, so the
two agree to ~1e-6 (the contract allows 1e-3). See training/INPUT_CONTRACT.md for the exact
definitions; keep the two files in step.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from .contract import DEFAULT_INPUT


def percentile_linear(values: np.ndarray, p: float) -> float:
    """Percentile with linear interpolation between order statistics (numpy's default).

    Written out (not ``np.percentile``) so the TypeScript code can mirror it operation by
    operation: sorted a, pos = p/100·(n−1), i = ⌊pos⌋, a[i] + (a[i+1] − a[i])·(pos − i).
    """
    a = np.sort(values, axis=None)
    n = a.size
    if n == 0:
        raise ValueError("empty image")
    pos = (p / 100.0) * (n - 1)
    i = int(math.floor(pos))
    j = min(i + 1, n - 1)
    return float(a[i] + (a[j] - a[i]) * (pos - i))


def window_percentile(v: np.ndarray, low: float, high: float) -> np.ndarray:
    lo = percentile_linear(v, low)
    hi = percentile_linear(v, high)
    if not hi > lo:
        return np.zeros(v.shape, dtype=np.float64)
    return np.clip((v - lo) / (hi - lo), 0.0, 1.0)


def pad_square(x: np.ndarray) -> np.ndarray:
    """Zero-pad to side max(rows, cols); the image sits at top=(side−rows)//2, left=(side−cols)//2."""
    rows, cols = x.shape
    side = max(rows, cols)
    out = np.zeros((side, side), dtype=np.float64)
    top = (side - rows) // 2
    left = (side - cols) // 2
    out[top:top + rows, left:left + cols] = x
    return out


def triangle_weights(in_size: int, out_size: int) -> np.ndarray:
    """Resampling matrix [out_size, in_size] of the antialiased triangle (bilinear) filter.

    Half-pixel centres: output o samples input coordinate c = (o + 0.5)·scale, scale = in/out.
    The triangle kernel is widened by f = max(scale, 1) when shrinking (antialiasing): input i
    gets weight max(0, 1 − |i + 0.5 − c| / f); weights of each output are normalised to sum 1
    (this also handles the borders). Equals PIL's BILINEAR and torch's
    ``interpolate(mode="bilinear", antialias=True, align_corners=False)`` up to rounding.
    """
    scale = in_size / out_size
    f = max(scale, 1.0)
    w = np.zeros((out_size, in_size), dtype=np.float64)
    for o in range(out_size):
        c = (o + 0.5) * scale
        i0 = max(0, int(math.floor(c - f - 0.5)))
        i1 = min(in_size, int(math.ceil(c + f + 0.5)))
        for i in range(i0, i1):
            t = 1.0 - abs(i + 0.5 - c) / f
            if t > 0:
                w[o, i] = t
        s = w[o].sum()
        if s > 0:
            w[o] /= s
    return w


def resize_square(x: np.ndarray, size: int) -> np.ndarray:
    side = x.shape[0]
    if side == size:
        return x.copy()
    w = triangle_weights(side, size)
    return w @ x @ w.T


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def roi_box(rows: int, cols: int, pixel_spacing: Sequence[float], roi: Dict[str, Any]) -> Tuple[int, int, int, int]:
    """(top, left, height, width) in pixels of the role's ROI; it may reach outside the image.

    height = round(sideMm / row spacing), width = round(sideMm / column spacing) (PixelSpacing is
    [row spacing, column spacing] in mm); top = round(centre[0]·rows − height/2), left likewise;
    round = ⌊x + 0.5⌋.
    """
    ps_r, ps_c = float(pixel_spacing[0]), float(pixel_spacing[1])
    if not (ps_r > 0 and ps_c > 0 and math.isfinite(ps_r) and math.isfinite(ps_c)):
        raise ValueError(f"invalid PixelSpacing {list(pixel_spacing)}")
    side = float(roi["sideMm"])
    h = max(1, round_half_up(side / ps_r))
    w = max(1, round_half_up(side / ps_c))
    top = round_half_up(float(roi["centre"][0]) * rows - h / 2.0)
    left = round_half_up(float(roi["centre"][1]) * cols - w / 2.0)
    if top >= rows or left >= cols or top + h <= 0 or left + w <= 0:
        raise ValueError("the region of interest lies outside the image")
    return top, left, h, w


def to_unit_image(stored: np.ndarray, size: int, *, rescale_slope: float = 1.0,
                  rescale_intercept: float = 0.0, monochrome1: bool = False,
                  role: Optional[str] = None, pixel_spacing: Optional[Sequence[float]] = None,
                  contract: Optional[Dict[str, Any]] = None) -> np.ndarray:
    """Steps up to the resize: returns the S×S float64 image in [0, 1] (what training caches).

    With a contract that has ``roi`` (v2) the series ``role`` and ``pixel_spacing`` are required:
    the role's ROI is cut out (parts outside the image become 0 after windowing), the window is
    computed from the ROI's in-image pixels only, and the ROI is what gets padded and resized.
    """
    c = contract or DEFAULT_INPUT
    if stored.ndim != 2:
        raise ValueError(f"expected a single 2-D frame, got shape {stored.shape}")
    v = stored.astype(np.float64) * float(rescale_slope) + float(rescale_intercept)
    win = c["windowing"]
    rois = c.get("roi")
    rows, cols = v.shape
    if rois is None:  # ldh-input-v1: the whole image is the box
        top, left, h, w = 0, 0, rows, cols
    elif role not in rois:
        raise ValueError(f"the contract has no region of interest for series role {role!r}")
    elif pixel_spacing is None or len(pixel_spacing) != 2:
        raise ValueError("PixelSpacing is required to cut the region of interest")
    else:
        top, left, h, w = roi_box(rows, cols, pixel_spacing, rois[role])
    r0, r1, c0, c1 = max(top, 0), min(top + h, rows), max(left, 0), min(left + w, cols)
    inside = window_percentile(v[r0:r1, c0:c1], win["lowPercentile"], win["highPercentile"])
    if monochrome1:
        inside = 1.0 - inside
    x = np.zeros((h, w), dtype=np.float64)
    x[r0 - top:r1 - top, c0 - left:c1 - left] = inside
    return resize_square(pad_square(x), size)


def normalise(unit: np.ndarray, contract: Optional[Dict[str, Any]] = None) -> np.ndarray:
    """[.., S, S] in [0,1] → [.., 3, S, S] float32, (x − mean)/std, three identical channels."""
    c = contract or DEFAULT_INPUT
    n = c["normalisation"]
    z = (unit - n["mean"]) / n["std"]
    return np.repeat(z[..., None, :, :], 3, axis=-3).astype(np.float32)


def preprocess_pixels(stored: np.ndarray, *, rescale_slope: float = 1.0, rescale_intercept: float = 0.0,
                      monochrome1: bool = False, role: Optional[str] = None,
                      pixel_spacing: Optional[Sequence[float]] = None,
                      contract: Optional[Dict[str, Any]] = None) -> np.ndarray:
    """Full pipeline for one frame → float32 [3, S, S]."""
    c = contract or DEFAULT_INPUT
    unit = to_unit_image(stored, c["size"], rescale_slope=rescale_slope, rescale_intercept=rescale_intercept,
                         monochrome1=monochrome1, role=role, pixel_spacing=pixel_spacing, contract=c)
    return normalise(unit, c)


def dicom_frame(ds: Any) -> Dict[str, Any]:
    """Stored pixels and the Modality LUT / photometric fields of a single-frame pydicom dataset."""
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames != 1:
        raise ValueError("multi-frame images are not part of the input contract")
    return {
        "stored": ds.pixel_array,
        "rescale_slope": float(getattr(ds, "RescaleSlope", 1.0) or 1.0),
        "rescale_intercept": float(getattr(ds, "RescaleIntercept", 0.0) or 0.0),
        "monochrome1": str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2")) == "MONOCHROME1",
        "pixel_spacing": [float(v) for v in ds.PixelSpacing] if "PixelSpacing" in ds and ds.PixelSpacing else None,
    }


def preprocess_dicom(path: str, contract: Optional[Dict[str, Any]] = None, role: Optional[str] = None) -> np.ndarray:
    import pydicom

    f = dicom_frame(pydicom.dcmread(path))
    return preprocess_pixels(f["stored"], rescale_slope=f["rescale_slope"], rescale_intercept=f["rescale_intercept"],
                             monochrome1=f["monochrome1"], role=role, pixel_spacing=f["pixel_spacing"], contract=contract)


def unit_from_dicom(path: str, size: int, contract: Optional[Dict[str, Any]] = None, role: Optional[str] = None) -> np.ndarray:
    import pydicom

    f = dicom_frame(pydicom.dcmread(path))
    return to_unit_image(f["stored"], size, rescale_slope=f["rescale_slope"], rescale_intercept=f["rescale_intercept"],
                         monochrome1=f["monochrome1"], role=role, pixel_spacing=f["pixel_spacing"], contract=contract)
