"""Model card writing (``models/<name>.json`` + ``.md``) and file hashing."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


REQUIRED = [
    "schemaVersion", "name", "version", "placeholder", "file", "sha256", "architecture", "input",
    "output", "threshold", "aggregation", "training", "metrics", "intendedUse", "disclaimer",
]


def write_card(card: Dict[str, Any], json_path: str, md_text: str) -> None:
    missing = [k for k in REQUIRED if k not in card]
    if missing:
        raise ValueError(f"model card lacks fields: {missing}")
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    md_path = os.path.splitext(json_path)[0] + ".md"
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(md_text)
