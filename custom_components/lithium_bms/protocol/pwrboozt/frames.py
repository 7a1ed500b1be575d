"""PowerBoozt and Dörr Power frames: ASCII hex between ``:`` and ``~``.

A relative of E&J's protocol (:mod:`..ej.frames`) with its own request, layout
and checksum. The request ``:015150000EFE~`` is answered by one 236-character
reply: ``:``, the hex digits of 117 bytes, ``~``. The bytes are the address,
the command 0x54, the version, the length in characters (2 bytes, ``:`` and
``~`` included), the fields and a checksum: the low byte of the sum of the
bytes after the address and before the checksum, inverted [A][C]. Offsets
below count the decoded bytes from the address. Sources, cited as [A] to [C]:

- [A] patman15/aiobmsble ``aiobmsble/bms/pwrboozt_bms.py`` and
  ``tests/bms/test_pwrboozt.py`` @ 2e1719573c2676c7d4d9c3f35621b11ac87a6d12
- [B] patman15/aiobmsble ``aiobmsble/bms/doerrpwr_bms.py``
  @ ce573f256e0c4c0fd52d10e4c1d16565b775fc79 and ``tests/bms/test_doerrpwr_bms.py``
  @ 9dc609925bc077a1534e6dfdfbcc93337da4d251 (Dörr: the same frames on FFF6)
- [C] the dbus-serialbattery ``Powerbootz_Ble`` driver by lotzm (its layout
  table: work state, balancing, cell count, delta, design and full capacity)

The current: [A] reads offset 54 as a signed integer, [B] and [C] as a
magnitude with bit 31 as the direction, and they disagree which way. The
captured charging frame of [A] (12.81 A, bit 31 clear) carries the work
state's "charging" bit [C], so bit 31 is not the direction there. The
direction is taken from the work state's charging and discharging bits [C]:
they fit both full captures, and [B]'s charging and discharging readings
(stated without their frames) if those frames set them; the magnitude is the
low 31 bits. A frame with a current but neither bit (or both) is refused: its
direction cannot be told.
"""

from __future__ import annotations

from string import hexdigits
from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields, unpack_run
from ..snapshot import Alarm

START = b":"
END = b"~"
HEX_DIGITS = frozenset(hexdigits.encode())
REQUEST = b":015150000EFE~"  # [A][B][C]
# The address the request asks and both captured replies carry; it is
# outside the checksum [A].
ADDRESS = 0x01
REPLY = 0x54
VERSION = 0x01
# ``:`` + address, command, version + the 4-digit length.
HEAD_CHARS = 11
LENGTH_AT = 7
REPLY_CHARS = 236  # the only reply length any source knows [A][B][C]
REPLY_BYTES = (REPLY_CHARS - 2) // 2
MAX_CELLS = 16
CELLS_AT = 12
PROBES_AT = 48
PROBES = 4
TEMPERATURE_OFFSET = 40  # °C = byte - 40 [A][C]
# Work state bits [C]; bits 2-11 are E&J's protection mask too (ej.frames).
CHARGING = 0x0001
DISCHARGING = 0x0002
DISCHARGE_FET = 0x1000
CHARGE_FET = 0x2000
PROTECTION_MASK = 0x0FFC
PROTECTION_BITS = {
    0x0004: Alarm.PACK_OVERVOLTAGE,
    0x0008: Alarm.PACK_UNDERVOLTAGE,
    0x0010: Alarm.CHARGE_OVERCURRENT,
    0x0020: Alarm.SHORT_CIRCUIT,
    0x0040: Alarm.DISCHARGE_OVERCURRENT,  # level 1
    0x0080: Alarm.DISCHARGE_OVERCURRENT,  # level 2
    0x0100: Alarm.CHARGE_OVERTEMPERATURE,
    0x0200: Alarm.CHARGE_UNDERTEMPERATURE,
    0x0400: Alarm.DISCHARGE_OVERTEMPERATURE,
    0x0800: Alarm.DISCHARGE_UNDERTEMPERATURE,
}
SUPPORTED_ALARMS = frozenset(PROTECTION_BITS.values())
MAGNITUDE = 0x7FFFFFFF
# Cross-checks of a frame whose checksum is a byte sum: the pack voltage is
# the sum of the cells and the delta their spread (exact in both captures).
VOLTAGE_TOLERANCE = 0.05
DELTA_TOLERANCE = 0.002
# A new pack may measure above its rating; no more than this.
FULL_OVER_DESIGN = 1.2

# Fixed fields of the reply [A][C]. Offset 74 ([C]: remaining capacity) reads
# above the full capacity in both captures (310.7 of 300 Ah at 98 %), 82
# ([C]: SOH) reads 1 in both, 58 ([C]: mean current) 0x7FFFFFFF: not shown.
FIELDS = (
    Field("state", 44, 2),
    Field("balancing", 46, 2),
    Field("current", 54, 4),
    Field("voltage", 62, 2, scale=0.001, decimals=3),
    Field("delta", 64, 2, scale=0.001, decimals=3),
    Field("cells", 66, 1),
    Field("cycles", 67, 2),
    Field("soc", 69, 1),
    Field("design", 70, 4, scale=0.001, decimals=3),
    Field("full", 78, 4, scale=0.001, decimals=3),
)
_SCALED = Layout(*(f for f in FIELDS if f.decimals is not None))
_INTS = Layout(*(f for f in FIELDS if f.decimals is None))


def checksum(data: bytes) -> int:
    """The inverted low byte of the sum of ``data``."""
    return ~sum(data) & 0xFF


def frame_length(head: bytes) -> int:
    """The length a frame's head states, 0 when it is not a known reply."""
    length = int(head[LENGTH_AT:HEAD_CHARS], 16)
    return length if length == REPLY_CHARS else 0


def check_frame(frame: bytes) -> bytes:
    """The decoded bytes of one whole reply; raise unless it is valid."""
    if (
        len(frame) != REPLY_CHARS
        or frame[:1] != START
        or frame[-1:] != END
        or not HEX_DIGITS.issuperset(frame[1:-1])
    ):
        raise FrameError("not a PowerBoozt frame")
    data = bytes.fromhex(frame[1:-1].decode("ascii"))
    if data[0] != ADDRESS or data[1] != REPLY or data[2] != VERSION:
        raise FrameError("not a PowerBoozt reply")
    if int.from_bytes(data[3:5]) != REPLY_CHARS:
        raise FrameError("PowerBoozt frame length mismatch")
    if checksum(data[1:-1]) != data[-1]:
        raise ChecksumError("PowerBoozt checksum mismatch")
    return data


class PwrbooztStatus(NamedTuple):
    """The decoded reply."""

    voltage: float
    current: float
    cell_voltages: tuple[float, ...]
    temperatures: tuple[int, ...]
    soc: int
    cycles: int
    design: float
    full: float
    balancing_cells: frozenset[int]
    charge_fet: bool
    discharge_fet: bool
    alarms: frozenset[Alarm]
    protection_code: int


def decode_status(frame: bytes) -> PwrbooztStatus:
    """Decode a reply; raise where it contradicts itself (a forged frame)."""
    data = check_frame(frame)
    values = {name: int(value) for name, value in read_fields(_INTS, data).items()}
    scaled = read_fields(_SCALED, data)
    count = values["cells"]
    if not 1 <= count <= MAX_CELLS:
        raise FrameError("PowerBoozt cell count out of range")
    raw = unpack_run(data, CELLS_AT, MAX_CELLS)
    if not all(raw[:count]) or any(raw[count:]):
        raise FrameError("PowerBoozt cells do not match the cell count")
    cells = tuple(mv / 1000 for mv in raw[:count])
    if abs(scaled["voltage"] - sum(cells)) > VOLTAGE_TOLERANCE:
        raise FrameError("PowerBoozt pack voltage is not the sum of its cells")
    if abs(scaled["delta"] - (max(cells) - min(cells))) > DELTA_TOLERANCE:
        raise FrameError("PowerBoozt cell delta does not match its cells")
    balancing = values["balancing"]
    if balancing >> count:
        raise FrameError("PowerBoozt balances a cell it does not have")
    if values["soc"] > 100 or scaled["full"] > scaled["design"] * FULL_OVER_DESIGN:
        raise FrameError("PowerBoozt SOC or capacity out of range")
    state = values["state"]
    return PwrbooztStatus(
        voltage=scaled["voltage"],
        current=_current(values["current"], state),
        cell_voltages=cells,
        temperatures=tuple(
            b - TEMPERATURE_OFFSET for b in data[PROBES_AT : PROBES_AT + PROBES]
        ),
        soc=values["soc"],
        cycles=values["cycles"],
        design=scaled["design"],
        full=scaled["full"],
        balancing_cells=frozenset(i for i in range(count) if balancing >> i & 1),
        charge_fet=bool(state & CHARGE_FET),
        discharge_fet=bool(state & DISCHARGE_FET),
        alarms=frozenset(
            alarm for bit, alarm in PROTECTION_BITS.items() if state & bit
        ),
        protection_code=state & PROTECTION_MASK,
    )


def _current(raw: int, state: int) -> float:
    """The magnitude, signed by the work state (see the module docstring)."""
    amps = round((raw & MAGNITUDE) / 1000, 3)
    direction = state & (CHARGING | DISCHARGING)
    if direction == CHARGING:
        return amps
    if direction == DISCHARGING:
        return -amps
    if amps == 0:
        return 0.0
    raise FrameError("PowerBoozt current without a direction")
