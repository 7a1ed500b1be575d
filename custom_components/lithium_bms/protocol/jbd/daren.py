"""Daren (Docan) packs: JBD frames with their own 0x03 tail and register 0x08.

Source [D]: aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/daren_bms.py`` and
``tests/bms/test_daren_bms.py``. Offsets below count the payload (the frame's
offsets in [D] minus the 4 header bytes).

Register 0x03: the JBD fixed part; the NTC count (at most 4 read) names the
cell probes, a MOSFET and an ambient probe follow, then the state of health
at 35. The longer, extended reply reads 0xFFFF in the fixed part's current
and capacities; the real values follow at 39 (remaining, 0.1 Ah), 41 (design,
0.1 Ah) and 45 (current, 0.1 A) [D]. Register 0x08: NUL-padded ASCII; the
pack answers 0x05 with an error status [D].
"""

from __future__ import annotations

from ..errors import FrameError
from ..fields import Field, Layout, read_fields
from .frames import (
    NTC_COUNT_AT,
    REG_LONG_INFO,
    BasicInfo,
    InfoTexts,
    decode_fixed,
    probes,
)

REG_INFO = REG_LONG_INFO
MAX_CELL_PROBES = 4
HEALTH_AT = 35
EXTENDED_FIELDS = Layout(
    Field("remaining", 39, 2, scale=0.1, decimals=1),
    Field("design", 41, 2, scale=0.1, decimals=1),
    Field("current", 45, 2, signed=True, scale=0.1, decimals=1),
)
EXTENDED_LEN = 47
# Register 0x08: (start, end) of each text [D].
INFO_TEXTS = {"model": (60, 90), "hw_version": (113, 123), "sw_version": (123, 153)}


def decode_basic(payload: bytes) -> BasicInfo:
    """Decode Daren's register 0x03."""
    info = decode_fixed(payload)
    cell_probes = min(payload[NTC_COUNT_AT], MAX_CELL_PROBES)
    temps = probes(payload, cell_probes + 2)
    if len(payload) <= HEALTH_AT:
        raise FrameError("Daren basic info without its state of health")
    info = info._replace(
        temperatures=temps[:cell_probes],
        mosfet_temperature=temps[-2],
        ambient_temperature=temps[-1],
        state_of_health=payload[HEALTH_AT],
    )
    if len(payload) < EXTENDED_LEN:
        return info
    extended = read_fields(EXTENDED_FIELDS, payload)
    return info._replace(
        current=extended["current"],
        remaining_capacity=extended["remaining"],
        nominal_capacity=extended["design"],
    )


def decode_info(payload: bytes) -> InfoTexts:
    """Decode register 0x08."""
    if len(payload) < max(end for _, end in INFO_TEXTS.values()):
        raise FrameError("Daren device information too short")
    texts = {
        name: payload[start:end].split(b"\x00")[0].decode("ascii", errors="replace")
        for name, (start, end) in INFO_TEXTS.items()
    }
    return InfoTexts(
        model=texts["model"] or None,
        hw_version=texts["hw_version"] or None,
        sw_version=texts["sw_version"] or None,
    )
