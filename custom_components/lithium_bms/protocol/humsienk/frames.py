"""Humsienk frames: ``AA <command> <len> <len bytes> <sum:2>``, little-endian.

A request is ``AA <command> 00`` and its sum; the reply echoes the command.
The sum is the 16-bit sum of every byte from the command to the end of the
data, sent low byte first. Sources, cited below as [A] and [B]:

- [A] patman15/aiobmsble ``aiobmsble/bms/humsienk_bms.py`` and
  ``tests/bms/test_humsienk_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
- [B] patman15/aiobmsble ``docs/humsienk_bms.md`` @ the same commit (the
  register map, "confirmed via live device testing")
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields, unpack_run
from ..snapshot import Alarm

START = 0xAA
HEAD = 3  # AA <command> <len>
TRAILER = 2  # the sum
HANDSHAKE = 0x00  # sent once after connecting [A]
MODEL = 0x11  # ASCII model, e.g. ``BMC-04S001`` [A][B]
STATUS = 0x20  # operating status: FETs, alarms, balancing, disconnected cells
BATTERY = 0x21  # voltage, current, SOC, SOH, capacities, cycles, probes
CELLS = 0x22  # up to 24 cells, mV
VERSION = 0xF5  # ASCII hardware version, e.g. ``V02`` [A]
MAX_CELLS = 24
BATTERY_LENGTH = 26  # data bytes of 0x21 [B]
STATUS_LENGTHS = (14, 15)  # data bytes of 0x20 [B]

# 0x21, offsets in the whole frame (data offset + 3) [B].
BATTERY_FIELDS = Layout(
    Field("voltage", 3, 4, scale=0.001, decimals=3, order="little"),
    Field("current", 7, 4, signed=True, scale=0.001, decimals=3, order="little"),
    Field("soc", 11, 1),
    Field("soh", 12, 1),
    Field("remaining", 13, 4, scale=0.001, decimals=3, order="little"),
    Field("full", 17, 4, scale=0.001, decimals=3, order="little"),
    Field("cycles", 21, 2, order="little"),
)
# Four cell probes, the MOSFET and the environment, signed °C [B]. [A] labels
# the first probe as the MOSFET's; [B]'s table puts the MOSFET fifth.
PROBES_AT = 23
CELL_PROBES = 4
PROBES = 6

# 0x20, offsets in the whole frame [B].
STATUS_FIELDS = Layout(
    Field("hours", 5, 1),
    Field("minutes", 6, 1),
    Field("operation", 7, 4, order="little"),
    Field("balance", 11, 3, order="little"),
    Field("disconnected", 14, 3, order="little"),
)
CHARGE_FET = 1 << 7
BALANCING = 1 << 15
DISCHARGE_FET = 1 << 23
# Operation status bits that are states, not problems [A] (``_ALARM_MASK``).
STATE_BITS = CHARGE_FET | BALANCING | DISCHARGE_FET
# Protection bits of the operation status [B]; bits 8-12, 24-29 are warnings
# ahead of them and stay in the protection code only.
PROTECTION_BITS = {
    1 << 0: Alarm.CHARGE_OVERCURRENT,
    1 << 1: Alarm.CHARGE_OVERTEMPERATURE,
    1 << 2: Alarm.CHARGE_UNDERTEMPERATURE,
    1 << 4: Alarm.PACK_OVERVOLTAGE,
    1 << 16: Alarm.DISCHARGE_OVERCURRENT,
    1 << 17: Alarm.DISCHARGE_OVERTEMPERATURE,
    1 << 18: Alarm.DISCHARGE_UNDERTEMPERATURE,
    1 << 20: Alarm.SHORT_CIRCUIT,
    1 << 21: Alarm.PACK_UNDERVOLTAGE,
    1 << 30: Alarm.MOSFET_OVERTEMPERATURE,
}
# A disconnected cell (broken wire or connection) [B]: [A] reports a problem.
SUPPORTED_ALARMS = frozenset({*PROTECTION_BITS.values(), Alarm.HARDWARE_FAULT})


def checksum(data: bytes) -> int:
    """The 16-bit sum of ``data``."""
    return sum(data) & 0xFFFF


def build_request(command: int) -> bytes:
    """``AA <command> 00 <sum:2>``."""
    body = bytes((command, 0))
    return bytes((START,)) + body + checksum(body).to_bytes(2, "little")


def is_reply(frame: bytes, command: int) -> bool:
    """Whether ``frame`` answers ``command``."""
    return frame[1] == command


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole frame with a matching sum."""
    if len(frame) < HEAD + TRAILER or frame[0] != START:
        raise FrameError("not a Humsienk frame")
    if len(frame) != frame[2] + HEAD + TRAILER:
        raise FrameError("Humsienk frame length mismatch")
    if checksum(frame[1:-TRAILER]) != int.from_bytes(frame[-TRAILER:], "little"):
        raise ChecksumError("Humsienk checksum mismatch")


class HumsienkBattery(NamedTuple):
    """The decoded 0x21 battery information."""

    voltage: float
    current: float
    soc: int
    soh: int
    remaining: float
    full: float
    cycles: int
    probes: tuple[int, ...]


class HumsienkStatus(NamedTuple):
    """The decoded 0x20 operating status."""

    charge_fet: bool
    discharge_fet: bool
    balancing_cells: frozenset[int]
    disconnected_cells: frozenset[int]
    alarms: frozenset[Alarm]
    protection_code: int


def _data_length(frame: bytes, command: int, lengths: tuple[int, ...]) -> None:
    if not is_reply(frame, command) or frame[2] not in lengths:
        raise FrameError(f"not a Humsienk 0x{command:02X} reply")


def decode_battery(frame: bytes) -> HumsienkBattery:
    """Decode a 0x21 reply (a frame that passed :func:`check_frame`)."""
    _data_length(frame, BATTERY, (BATTERY_LENGTH,))
    values = read_fields(BATTERY_FIELDS, frame)
    return HumsienkBattery(
        voltage=values["voltage"],
        current=values["current"],
        soc=int(values["soc"]),
        soh=int(values["soh"]),
        remaining=values["remaining"],
        full=values["full"],
        cycles=int(values["cycles"]),
        probes=tuple(
            int.from_bytes(frame[at : at + 1], "little", signed=True)
            for at in range(PROBES_AT, PROBES_AT + PROBES)
        ),
    )


def decode_status(frame: bytes) -> HumsienkStatus:
    """Decode a 0x20 reply; an impossible uptime refuses it."""
    _data_length(frame, STATUS, STATUS_LENGTHS)
    values = {k: int(v) for k, v in read_fields(STATUS_FIELDS, frame).items()}
    if values["hours"] > 23 or values["minutes"] > 59:
        raise FrameError("Humsienk uptime out of range")
    operation = values["operation"]
    disconnected = _bits(values["disconnected"])
    alarms = {alarm for bit, alarm in PROTECTION_BITS.items() if operation & bit}
    if disconnected:
        alarms.add(Alarm.HARDWARE_FAULT)
    return HumsienkStatus(
        charge_fet=bool(operation & CHARGE_FET),
        discharge_fet=bool(operation & DISCHARGE_FET),
        balancing_cells=_bits(values["balance"]),
        disconnected_cells=disconnected,
        alarms=frozenset(alarms),
        protection_code=(operation & ~STATE_BITS) | values["disconnected"] << 32,
    )


def decode_cells(frame: bytes) -> tuple[float, ...]:
    """Decode a 0x22 reply: the populated cells (an unused slot reads 0) [A]."""
    _data_length(frame, CELLS, tuple(range(2, 2 * MAX_CELLS + 1, 2)))
    raw = unpack_run(frame, HEAD, (frame[2] + 1) // 2, order="little")
    return tuple(mv / 1000 for mv in raw if mv)


def decode_text(frame: bytes) -> str | None:
    """The ASCII of a 0x11 or 0xF5 reply, NUL padding dropped [A]."""
    text = frame[HEAD:-TRAILER].split(b"\x00", 1)[0].decode("ascii", "replace")
    return text.strip() or None


def _bits(mask: int) -> frozenset[int]:
    """Cell numbers of the set bits, bit 0 = cell 1 [B]."""
    return frozenset(i + 1 for i in range(MAX_CELLS) if mask >> i & 1)
