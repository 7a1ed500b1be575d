"""Topband frames: one head byte and 112 ASCII hex digits, pushed by the BMS.

The BMS notifies one status frame after another while a host is connected;
nothing is written to it. The 112 digits are 56 bytes: 54 bytes of
little-endian fields and a big-endian 16-bit sum of those 54. Ective,
StartCraft, KiloVault and PowerXtreme packs send the same layout behind
different head bytes. Sources, cited below as [A] to [C]:

- [A] patman15/aiobmsble ``aiobmsble/bms/topband_bms.py`` and
  ``tests/bms/test_topband_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
- [B] patman15/aiobmsble ``aiobmsble/bms/pwrxtreme_bms.py``,
  ``aiobmsble/bms/topband_bms.py`` (head 0xE8) and
  ``tests/bms/test_pwrxtreme_bms.py`` @ 00e4ff0fb63d93e18664f0bbffe02a0fcca6001a
- [C] naugehyde/bt-sensors-plugin-sk ``sensor_classes/EctiveBMS.js``
  @ 203f01da52c9fceb15c9e3f202b3a873888dbf7f (the same field offsets)
- [D] aiobmsble 0.31.0 (the PyPI wheel) ``aiobmsble/bms/topband_bms.py``:
  any byte that is no uppercase hex digit starts a frame
- [E] aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/pwrxtreme_bms.py`` and
  ``tests/bms/test_pwrxtreme_bms.py``: PowerXtreme's current in 0.1 A

The sum is weak (a forged or spliced frame fits it easily), so a frame is
also refused when its content contradicts itself: cells after an empty slot,
no cell at all, a state of charge above 100 % or a pack voltage that is not
the sum of its cells.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields

HEX_DIGITS = frozenset(b"0123456789ABCDEF")  # uppercase only [D]
# Bytes that are all hex digits (one match instead of a set test per byte).
ALL_HEX_DIGITS = re.compile(rb"[0-9A-F]*")
# Ective 0x5E, StartCraft 0x83, KiloVault 0xB0 [A], 0xE8 [B]: any byte that
# is no hex digit heads a frame [D].
HEADS = bytes(byte for byte in range(256) if byte not in HEX_DIGITS)
DIGITS = 112
LENGTH = 1 + DIGITS  # 113 bytes on the air [A]
DATA = 54  # decoded bytes before the sum
MAX_CELLS = 16
CELLS_AT = 22  # 16 cells of 1 mV, unused slots 0 [A][C]
CURRENT_UNIT = 0.001  # A: Topband's 1 mA [A][C]
KELVIN_OFFSET = 273.15  # the probe reads 0.1 K [A][C]
# The pack voltage may differ from the sum of its cells by this much: the
# KiloVault capture of [A] reads 13.200 V over cells summing to 13.261 V.
CELL_SUM_MARGIN = 0.1  # V
CELL_SUM_TOLERANCE = 0.02  # of the sum

# Fixed fields of the decoded bytes [A][C].
FIELDS = (
    Field("voltage", 0, 4, scale=0.001, decimals=3, order="little"),
    # In the variant's unit (:mod:`.variants`): 1 mA [A], 0.1 A PowerXtreme [E].
    Field("current", 4, 4, signed=True, order="little"),
    # The charge left, in mAh ("cycle_charge" in [A]).
    Field("remaining", 8, 4, scale=0.001, decimals=3, order="little"),
    Field("cycles", 12, 2, order="little"),
    Field("soc", 14, 2, order="little"),
    Field("kelvin", 16, 2, scale=0.1, decimals=1, order="little"),
    # A problem code without a public bit table: nonzero is "a problem" [A].
    # [C] reads two bytes here, but [A]'s StartCraft capture has 0x80 in
    # byte 19 with problem code 0; bytes 19-21 stay undecoded.
    Field("problem", 18, 1),
)
_SCALED = Layout(*(f for f in FIELDS if f.decimals is not None))
_INTS = Layout(*(f for f in FIELDS if f.decimals is None))


def checksum(data: bytes) -> int:
    """The low 16 bits of the sum of ``data``."""
    return sum(data) & 0xFFFF


class TopbandStatus(NamedTuple):
    """The decoded status frame."""

    voltage: float
    current: float
    remaining: float
    cycles: int
    soc: int
    temperature: float
    cell_voltages: tuple[float, ...]
    problem_code: int


def decode_digits(frame: bytes) -> bytes:
    """The 56 bytes behind a frame's head; FrameError unless it is one."""
    if len(frame) != LENGTH or frame[0] in HEX_DIGITS:
        raise FrameError("not a Topband frame")
    if not ALL_HEX_DIGITS.fullmatch(frame, 1):
        raise FrameError("Topband frame with a character that is no hex digit")
    return bytes.fromhex(frame[1:].decode("ascii"))


def decode_status(frame: bytes, current_unit: float = CURRENT_UNIT) -> TopbandStatus:
    """Decode a frame; raise unless its sum and its content hold.

    ``current_unit`` is the variant's, in A (the checks do not depend on it).
    """
    data = decode_digits(frame)
    if checksum(data[:DATA]) != int.from_bytes(data[DATA:], "big"):
        raise ChecksumError("Topband checksum mismatch")
    values = {name: int(value) for name, value in read_fields(_INTS, data).items()}
    scaled = read_fields(_SCALED, data)
    status = TopbandStatus(
        voltage=scaled["voltage"],
        current=round(values["current"] * current_unit, 3),
        remaining=scaled["remaining"],
        cycles=values["cycles"],
        soc=values["soc"],
        temperature=round(scaled["kelvin"] - KELVIN_OFFSET, 2),
        cell_voltages=_cells(data),
        problem_code=values["problem"],
    )
    _check_content(status)
    return status


_CELL_SLOTS = struct.Struct(f"<{MAX_CELLS}H")


def _cells(data: bytes) -> tuple[float, ...]:
    """The populated cells: the slots before the first empty one [A]."""
    raw = list(_CELL_SLOTS.unpack_from(data, CELLS_AT))
    count = raw.index(0) if 0 in raw else MAX_CELLS
    if any(raw[count:]):
        raise FrameError("Topband frame with a cell after an empty slot")
    return tuple(mv / 1000 for mv in raw[:count])


def _check_content(status: TopbandStatus) -> None:
    """Refuse what no pack sends (the sum alone lets such frames through)."""
    if not status.cell_voltages:
        raise FrameError("Topband frame without cells")
    if status.soc > 100:
        raise FrameError(f"Topband state of charge {status.soc} % above 100 %")
    total = sum(status.cell_voltages)
    if abs(status.voltage - total) > CELL_SUM_MARGIN + CELL_SUM_TOLERANCE * total:
        raise FrameError(
            f"Topband pack voltage {status.voltage} V is not the sum of its cells"
        )
