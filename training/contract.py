"""The ``ldh-input-v2`` input contract as data.

One definition shared by preprocessing, slice selection, export and the model card, so the card
written next to an ONNX file always states the pipeline the model was trained with. The
TypeScript twin (packages/model/src/preprocess.ts) reads the same fields from the card.
"""

from __future__ import annotations

import copy
from typing import Any, Dict

CONTRACT_ID = "ldh-input-v2"

#: Resampling both Python and TypeScript compute exactly (see training/INPUT_CONTRACT.md).
RESIZE_METHOD = "triangle-antialias-halfpixel"

CLASS_ORDER = ["healthy", "ldh"]


#: Region of interest per series role (v2): a square of ``sideMm`` millimetres centred at the fraction
#: ``centre`` = [row, column] of the image. Axial slices are planned through the disc, so the disc and
#: the canal lie near the image centre; on a lumbar sagittal slice planned by the usual rules the
#: L3-L4 … L5-S1 discs and the canal lie below and posterior (to the right) of the centre.
ROI = {
    "t1_sag": {"centre": [0.7, 0.6], "sideMm": 160.0},
    "t2_sag": {"centre": [0.7, 0.6], "sideMm": 160.0},
    "t2_ax": {"centre": [0.58, 0.5], "sideMm": 120.0},
}


def input_section(size: int = 128) -> Dict[str, Any]:
    """The card's ``input`` object for a model taking ``size``×``size`` images."""
    return {
        "name": "image",
        "layout": "NCHW",
        "channels": 3,
        "size": int(size),
        "dtype": "float32",
        "contract": CONTRACT_ID,
        "roi": copy.deepcopy(ROI),
        "windowing": {"method": "percentile", "lowPercentile": 0.5, "highPercentile": 99.5},
        "normalisation": {"mean": 0.5, "std": 0.25},
        "resize": RESIZE_METHOD,
        "sliceSelection": {"sagittalCentralSlices": 3, "axialMaxSlices": 15},
    }


def output_section() -> Dict[str, Any]:
    return {"name": "logits", "classOrder": list(CLASS_ORDER), "activation": "softmax"}


DEFAULT_INPUT = input_section(128)


def copy_input(size: int = 128) -> Dict[str, Any]:
    return copy.deepcopy(input_section(size))
