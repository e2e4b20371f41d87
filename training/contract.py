"""The ``ldh-input-v1`` input contract as data.

One definition shared by preprocessing, slice selection, export and the model card, so the card
written next to an ONNX file always states the pipeline the model was trained with. The
TypeScript twin (packages/model/src/preprocess.ts) reads the same fields from the card.
"""

from __future__ import annotations

import copy
from typing import Any, Dict

CONTRACT_ID = "ldh-input-v1"

#: Resampling both Python and TypeScript compute exactly (see training/INPUT_CONTRACT.md).
RESIZE_METHOD = "triangle-antialias-halfpixel"

CLASS_ORDER = ["healthy", "ldh"]


def input_section(size: int = 128) -> Dict[str, Any]:
    """The card's ``input`` object for a model taking ``size``×``size`` images."""
    return {
        "name": "image",
        "layout": "NCHW",
        "channels": 3,
        "size": int(size),
        "dtype": "float32",
        "contract": CONTRACT_ID,
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
