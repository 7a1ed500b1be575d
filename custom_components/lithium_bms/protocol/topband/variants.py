"""The Topband variants: one object each behind one interface.

Topband's own modules (service FFE0, nothing written, 1 mA) and PowerXtreme's
(service FFF0; 0.1 A; before each read ``<B:ST>`` and ``<H:ST>`` written to
FFF2, as aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/pwrxtreme_bms.py``
does). The driver tells them by the service the link uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .frames import CURRENT_UNIT


@dataclass(frozen=True, slots=True)
class TopbandVariant:
    """What one maker's modules do differently."""

    name: str
    manufacturer: str
    current_unit: float  # A
    # Written before each read; the BMS answers with the next status frame.
    requests: tuple[bytes, ...] = ()


TOPBAND = TopbandVariant("topband", "Topband", CURRENT_UNIT)
POWERXTREME = TopbandVariant(
    "powerxtreme", "PowerXtreme", 0.1, requests=(b"<B:ST>", b"<H:ST>")
)
VARIANTS: Mapping[str, TopbandVariant] = {v.name: v for v in (TOPBAND, POWERXTREME)}
