"""Slice selection of the ``ldh-input-v1`` contract: which images of a series are classified.

Per series role: ``t1_sag`` and ``t2_sag`` → the ``sagittalCentralSlices`` (3) slices nearest the
middle of the stack; ``t2_ax`` → all slices if there are at most ``axialMaxSlices`` (15), else 15
evenly spaced over the stack. The stack order is the position of each slice along the slice
normal n = row × column direction cosines (ImageOrientationPatient): d = IPP · n, ties broken by
InstanceNumber and then SOP Instance UID, so the result does not depend on file order.
Twin: packages/model/src/slice-selection.ts.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

ROLES = ("t1_sag", "t2_sag", "t2_ax")


def slice_position(ipp: Sequence[float], iop: Sequence[float]) -> float:
    r = [float(v) for v in iop[:3]]
    c = [float(v) for v in iop[3:6]]
    n = (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])
    return float(ipp[0]) * n[0] + float(ipp[1]) * n[1] + float(ipp[2]) * n[2]


def sort_instances(instances: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    def key(i: Dict[str, Any]):
        ipp, iop = i.get("imagePositionPatient"), i.get("imageOrientationPatient")
        d = slice_position(ipp, iop) if ipp is not None and iop is not None and len(ipp) == 3 and len(iop) == 6 else 0.0
        num = i.get("instanceNumber")
        return (d, num if num is not None else 0, i["sopInstanceUid"])

    return sorted(instances, key=key)


def central_indices(n: int, k: int) -> List[int]:
    m = min(k, n)
    start = (n - m) // 2
    return list(range(start, start + m))


def spread_indices(n: int, k: int) -> List[int]:
    """k indices evenly spread over 0..n−1 with both ends, idx_i = round_half_up(i·(n−1)/(k−1))."""
    if n <= k:
        return list(range(n))
    if k == 1:
        return [(n - 1) // 2]
    return [(2 * i * (n - 1) + (k - 1)) // (2 * (k - 1)) for i in range(k)]


def select_series(role: str, instances: List[Dict[str, Any]], contract: Optional[Dict[str, Any]] = None) -> List[str]:
    from .contract import DEFAULT_INPUT

    sel = (contract or DEFAULT_INPUT)["sliceSelection"]
    ordered = sort_instances(instances)
    if role in ("t1_sag", "t2_sag"):
        idx = central_indices(len(ordered), int(sel["sagittalCentralSlices"]))
    elif role == "t2_ax":
        idx = spread_indices(len(ordered), int(sel["axialMaxSlices"]))
    else:
        raise ValueError(f"unknown series role {role!r}")
    return [ordered[i]["sopInstanceUid"] for i in idx]


def select_slices(series: List[Dict[str, Any]], contract: Optional[Dict[str, Any]] = None) -> Dict[str, List[str]]:
    """``[{role, instances}]`` → ``{role: [sopInstanceUid, ...]}`` (several series of a role are concatenated)."""
    out: Dict[str, List[str]] = {}
    for s in series:
        out.setdefault(s["role"], []).extend(select_series(s["role"], s["instances"], contract))
    return out


def role_from_header(ds: Any) -> Optional[str]:
    """Series role of a training image from its header (the worker's router does this in production).

    SeriesDescription decides the plane when it says SAG / TRA / AX (COR → not classified);
    otherwise orientation does (|normal| largest along x → sagittal, else axial, oblique
    included). The weighting comes from SeriesDescription ("T1"/"T2") or else EchoTime
    (< 50 ms → T1). Only T2 axial series are used.
    """
    iop = getattr(ds, "ImageOrientationPatient", None)
    if iop is None or len(iop) != 6:
        return None
    r, c = [float(v) for v in iop[:3]], [float(v) for v in iop[3:]]
    n = [abs(r[1] * c[2] - r[2] * c[1]), abs(r[2] * c[0] - r[0] * c[2]), abs(r[0] * c[1] - r[1] * c[0])]
    axis = n.index(max(n))
    desc = str(getattr(ds, "SeriesDescription", "")).upper()
    if "T1" in desc:
        weighting = "t1"
    elif "T2" in desc:
        weighting = "t2"
    else:
        te = getattr(ds, "EchoTime", None)
        weighting = "t1" if te is not None and float(te) < 50 else "t2"
    if "COR" in desc:
        return None
    sagittal = "SAG" in desc or (axis == 0 and not any(k in desc for k in ("TRA", "AX")))
    if sagittal:
        return f"{weighting}_sag"
    # Axial stacks are often angled along each disc (oblique), so any non-sagittal T2 plane counts.
    if weighting == "t2" and (axis != 0 or "TRA" in desc or "AX" in desc):
        return "t2_ax"
    return None
