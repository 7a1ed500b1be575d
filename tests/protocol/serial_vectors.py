"""The captured serial frames of data/serial_vectors.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "serial_vectors.json").read_text()
)


def vectors(protocol: str, kind: str) -> list[dict[str, Any]]:
    """The vectors of one protocol and kind."""
    return [v for v in VECTORS if v["protocol"] == protocol and v["kind"] == kind]


def ids(found: list[dict[str, Any]]) -> list[str]:
    """Test ids: the vector names."""
    return [v["name"] for v in found]
