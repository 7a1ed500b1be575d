"""RoyPow frames: ``EA D1 01 <len> FF <command> <data> <xor> F5``, big-endian.

A request is ``EA D1 01 04 FF <command> <xor> F5``; each reply echoes the
command at byte 5. ``len`` counts the bytes after it, the XOR covers ``len``
up to the byte before it. Three replies make a reading: 0x02 the cells, 0x03
current, probes and MOSFETs, 0x04 charge, capacities and pack voltage.
Sources, cited below as [A] and [B]:

- [A] patman15/aiobmsble ``aiobmsble/bms/roypow_bms.py`` and
  ``tests/bms/test_roypow_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
- [B] vboginskey/bmv ``ut1300.py`` @ 30e9bd865f45e503b1dd3a684a55248c60a423f3
  (a Lion Energy UT1300 reader written apart from [A])

No public source names the bits of the 0x03 problem code: it is kept as the
protection code, with no named alarm.
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields

HEAD = b"\xea\xd1\x01"
TAIL = 0xF5
ADDRESS = 0xFF  # byte 4 of every request and reply [A][B]
CELLS = 0x02
STATUS = 0x03
PACK = 0x04
# A request: FF, command, XOR, F5.
MIN_LENGTH = 4
# The BLE module's own message, sent before and after replies [A].
MODULE_MESSAGE = b"AT+STAT\r\n"
MAX_CELLS = 16

# 0x02: cells from byte 9, two bytes each, mV [A][B]; len = 7 + 2 x cells [A].
CELLS_AT = 9
CELLS_OVERHEAD = 7

# 0x03: the state byte 6 is 0x31 discharging, 0x32 charging [B]; its bit 0
# is the sign of the current [A]. A byte outside 0x30-0x33 is refused: the
# XOR passes one random frame in 256, this check most of the rest.
STATE_MASK = 0xFC
STATE_BASE = 0x30
DISCHARGING = 0x01
STATUS_FIELDS = Layout(
    Field("current", 7, 2, scale=0.01, decimals=2),  # [A][B]
    Field("problem", 9, 3),  # [A]
    Field("probes", 13, 1),  # [A]
    Field("fets", 24, 1),  # bit 2 charge, bit 1 discharge [A]
)
PROBES_AT = 14  # one byte each, °C + 40 [A][B]
# Four probe slots, bytes 14-17: two cell probes, MOSFET, ambient [B].
PROBE_SLOTS = 4
TEMPERATURE_OFFSET = 40
CHARGE_FET = 0x04
DISCHARGE_FET = 0x02
STATUS_MIN_SIZE = 27  # the fields up to byte 24, XOR and F5

# 0x04: tagged values, tag 0x01 at byte 6 to tag 0x0A at byte 32 (the
# capture of [A]); a 32-bit capacity is two tagged 16-bit halves, mAh. A
# reply whose tags differ is refused (both sources read fixed offsets).
PACK_TAGS = {6: 1, 8: 2, 11: 3, 14: 4, 17: 5, 20: 6, 23: 7, 26: 8, 29: 9, 32: 10}
PACK_FIELDS = Layout(
    Field("soc", 7, 1),  # tag 1 [A][B]
    Field("cycles", 9, 2),  # tag 2 [A]
    # Tags 3 and 4: 105.000 Ah in the capture, the total its comment states [A].
    Field("design_high", 12, 2),
    Field("design_low", 15, 2),
    # Tags 5 and 6: the full capacity [B] (106.02 Ah in the capture).
    Field("full_high", 18, 2),
    Field("full_low", 21, 2),
    # Tags 7 and 8: the remaining charge, 98.2 Ah as [A]'s comment states.
    Field("remaining_high", 24, 2),
    Field("remaining_low", 27, 2),
)
VOLTAGE = Field("voltage", 47, 2, scale=0.01, decimals=2)  # [A][B]
PACK_MIN_SIZE = 51  # the voltage at bytes 47-48, XOR and F5


def checksum(data: bytes) -> int:
    """XOR of ``data``."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def build_request(command: int) -> bytes:
    """``EA D1 01 04 FF <command> <xor> F5``."""
    body = bytes((MIN_LENGTH, ADDRESS, command))
    return HEAD + body + bytes((checksum(body), TAIL))


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole frame with a matching XOR."""
    if len(frame) < len(HEAD) + 1 + MIN_LENGTH or not frame.startswith(HEAD):
        raise FrameError("not a RoyPow frame")
    if len(frame) != frame[3] + len(HEAD) + 1:
        raise FrameError("RoyPow frame length mismatch")
    if frame[-1] != TAIL:
        raise FrameError("RoyPow frame without its F5 tail")
    if checksum(frame[3:-2]) != frame[-2]:
        raise ChecksumError("RoyPow checksum mismatch")


def command_of(frame: bytes) -> int:
    """The command a checked frame answers."""
    return frame[5]


class RoyPowStatus(NamedTuple):
    """The decoded 0x03 reply."""

    current: float
    # Every probe the BMS counts, °C, in frame order.
    probes: tuple[int, ...]
    charge_fet: bool
    discharge_fet: bool
    problem_code: int


class RoyPowPack(NamedTuple):
    """The decoded 0x04 reply."""

    voltage: float
    soc: int
    cycles: int
    design: float
    full: float
    remaining: float


def _expect(frame: bytes, command: int, min_size: int) -> None:
    if frame[4] != ADDRESS or command_of(frame) != command:
        raise FrameError(f"not a RoyPow 0x{command:02X} reply")
    if len(frame) < min_size:
        raise FrameError(f"RoyPow 0x{command:02X} reply too short")


def decode_cells(frame: bytes) -> tuple[float, ...]:
    """Decode a 0x02 reply (a frame that passed :func:`check_frame`)."""
    _expect(frame, CELLS, CELLS_AT + 2 + 2)
    count, odd = divmod(frame[3] - CELLS_OVERHEAD, 2)
    if odd or not 0 < count <= MAX_CELLS:
        raise FrameError("RoyPow cell reply of no whole cell count")
    return tuple(
        int.from_bytes(frame[at : at + 2], "big") / 1000
        for at in range(CELLS_AT, CELLS_AT + 2 * count, 2)
    )


def decode_status(frame: bytes) -> RoyPowStatus:
    """Decode a 0x03 reply (a frame that passed :func:`check_frame`)."""
    _expect(frame, STATUS, STATUS_MIN_SIZE)
    state = frame[6]
    if state & STATE_MASK != STATE_BASE:
        raise FrameError(f"RoyPow state byte 0x{state:02X} is none of 0x30-0x33")
    values = read_fields(STATUS_FIELDS, frame)
    count = int(values["probes"])
    if count > PROBE_SLOTS:
        raise FrameError(f"RoyPow reply counts {count} probes in 4 slots")
    fets = int(values["fets"])
    current = values["current"]
    return RoyPowStatus(
        current=-current if state & DISCHARGING else current,
        probes=tuple(
            raw - TEMPERATURE_OFFSET for raw in frame[PROBES_AT : PROBES_AT + count]
        ),
        charge_fet=bool(fets & CHARGE_FET),
        discharge_fet=bool(fets & DISCHARGE_FET),
        problem_code=int(values["problem"]),
    )


def decode_pack(frame: bytes) -> RoyPowPack:
    """Decode a 0x04 reply (a frame that passed :func:`check_frame`)."""
    _expect(frame, PACK, PACK_MIN_SIZE)
    for at, tag in PACK_TAGS.items():
        if frame[at] != tag:
            raise FrameError(f"RoyPow 0x04 reply without tag {tag} at byte {at}")
    values = {name: int(v) for name, v in read_fields(PACK_FIELDS, frame).items()}
    return RoyPowPack(
        voltage=VOLTAGE.read(frame),
        soc=values["soc"],
        cycles=values["cycles"],
        design=_milliamp_hours(values, "design"),
        full=_milliamp_hours(values, "full"),
        remaining=_milliamp_hours(values, "remaining"),
    )


def _milliamp_hours(values: dict[str, int], name: str) -> float:
    """A capacity in Ah from its two tagged halves."""
    return (values[f"{name}_high"] << 16 | values[f"{name}_low"]) / 1000
