"""MyVolta frames: CAN messages of the pack, relayed over BLE by the VPS kit.

The Volta Power Systems Bluetooth kit notifies every CAN message the pack
sends, unasked, on characteristic ``…0301`` of service ``00035b03-…``.
Sources, cited below as [A]: aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/myvolta_bms.py``, ``tests/bms/test_myvolta_bms.py`` (one
cycle of a 14-cell pack and the values it asserts) and ``docs/myvolta_bms.md``.

On the air a frame is ``55 55``, its bytes, ``04 04`` [A]. A data frame is 16
bytes [A]: BLE command ``01``, the CAN message type, pack ID ``02``, two
arbitration ID bytes, the extended ID, the DLC ``08``, eight data bytes and
a checksum. Every captured frame, the 5-byte ``83`` frame too, sums to 0
modulo 256 (the checksum is 0xFF minus the sum of the bytes after the
command [A]). Values are little-endian [A].

[A]'s parser unescapes ``05 05`` and ``05 55``; no capture holds an escaped
byte, so how a data byte 04 travels is not known. Here ``05`` escapes the
byte after it, and ``04`` ends the frame only when a second ``04`` follows:
a frame read any other way fails its length or checksum and is dropped,
never decoded.
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout

HEAD = b"\x55\x55"
TAIL = b"\x04\x04"
ESCAPE = 0x05
END = 0x04
DATA_COMMAND = 0x01
DATA_LENGTH = 16
# The one other frame of the capture: ``83 00 08 01 74`` [A], not read.
OTHER_LENGTHS = {0x83: 5}
PACK_ID = 0x02  # [A]
DLC = 0x08  # [A]
# The longest a frame can be on the air: head, every byte escaped, tail.
MAX_WIRE = len(HEAD) + 2 * DATA_LENGTH + len(TAIL)

METRICS = 0x00
INFO = 0x01
CELL_MESSAGES = (0x11, 0x12, 0x13, 0x14)  # four cells each [A]
# Types 0x24-0x26 hold the probes [A] reads; 0x21/0x22 hold 0x8000 (no probe)
# and 0x27-0x29 -54.8 °C in the capture, which [A] leaves unread too.
TEMPERATURE_MESSAGES = (0x24, 0x25, 0x26)
MESSAGES = frozenset({METRICS, INFO, *CELL_MESSAGES, *TEMPERATURE_MESSAGES})

DATA = 7  # offset of the eight data bytes in a data frame
_METRICS = Layout(
    Field("voltage", DATA, 2, scale=0.001, decimals=3, order="little"),
    Field("current", DATA + 2, 2, True, 0.01, 2, order="little"),
    Field("soc", DATA + 6, 2, scale=0.1, decimals=1, order="little"),
)
# [A]: bytes 1-4 of INFO are the problem code, byte 3 masked out; the heater
# flag is bit 7 of byte 3.
_PROBLEM = Field("problem", DATA + 1, 4, order="little")
PROBLEM_MASK = 0xFF00FFFF
HEATER = 0x80
_HEATER_BYTE = DATA + 3


class Metrics(NamedTuple):
    """Message 0x00: pack voltage, current and state of charge."""

    voltage: float
    current: float
    soc: float


class Info(NamedTuple):
    """Message 0x01: the problem code and the heater flag."""

    problem_code: int
    heater: bool


def unstuff(wire: bytes) -> bytes:
    """The frame's bytes from ``55 55 … 04 04`` on the air."""
    if not (wire.startswith(HEAD) and wire.endswith(TAIL)) or len(wire) < 5:
        raise FrameError("MyVolta frame without its 55 55 head or 04 04 tail")
    body = wire[len(HEAD) : -len(TAIL)]
    out = bytearray()
    index = 0
    while index < len(body):
        byte = body[index]
        if byte == ESCAPE:
            index += 1
            if index == len(body):
                raise FrameError("MyVolta frame ends in an escape")
            byte = body[index]
        out.append(byte)
        index += 1
    return bytes(out)


def wire_length(buf: bytes | bytearray, pos: int) -> int | None:
    """Length on the air of the frame at ``pos``; None until its tail came.

    0 when no frame can start here or it outgrows :data:`MAX_WIRE`.
    """
    if pos + len(HEAD) > len(buf):
        return None
    if buf[pos + 1] != HEAD[1]:
        return 0
    index = pos + len(HEAD)
    while index < len(buf):
        if index - pos + len(TAIL) > MAX_WIRE:
            return 0
        byte = buf[index]
        if byte == ESCAPE:
            index += 2
            continue
        if byte == END:
            if index + 1 == len(buf):
                return None
            if buf[index + 1] == END:
                return index + len(TAIL) - pos
        index += 1
    return None


def check_frame(wire: bytes) -> bytes:
    """The unstuffed frame; raise unless it is a whole, valid MyVolta frame."""
    frame = unstuff(wire)
    expected = DATA_LENGTH if frame[0] == DATA_COMMAND else OTHER_LENGTHS.get(frame[0])
    if len(frame) != expected:
        raise FrameError(f"MyVolta frame of {len(frame)} bytes")
    if sum(frame) % 256:
        raise ChecksumError("MyVolta checksum mismatch")
    if frame[0] == DATA_COMMAND and (frame[2] != PACK_ID or frame[6] != DLC):
        raise FrameError("MyVolta frame with a foreign pack ID or DLC")
    return frame


def message_type(frame: bytes) -> int | None:
    """The CAN message type of an unstuffed data frame, None for another."""
    return frame[1] if frame[0] == DATA_COMMAND else None


def decode_metrics(frame: bytes) -> Metrics:
    """Message 0x00 [A]."""
    values = _METRICS.read(frame)
    return Metrics(values["voltage"], values["current"], values["soc"])


def decode_info(frame: bytes) -> Info:
    """Message 0x01 [A]."""
    return Info(
        problem_code=int(_PROBLEM.read(frame)) & PROBLEM_MASK,
        heater=bool(frame[_HEATER_BYTE] & HEATER),
    )


def decode_cells(frames: list[bytes]) -> tuple[float, ...]:
    """Cells 1-16 from messages 0x11-0x14, up to the first empty (0 mV) slot.

    The capture's 14-cell pack fills 14 slots, then 0 and 1 mV: [A] shows
    that last slot as a 15th cell of 0.001 V, which no cell of a 57 V pack
    is; here the cells end at the empty slot.
    """
    cells: list[float] = []
    for frame in frames:
        for slot in range(4):
            millivolts = int.from_bytes(
                frame[DATA + 2 * slot : DATA + 2 * slot + 2], "little"
            )
            if not millivolts:
                return tuple(cells)
            cells.append(millivolts / 1000)
    return tuple(cells)


def decode_temperatures(frames: list[bytes]) -> tuple[float, ...]:
    """The twelve probes of messages 0x24-0x26, signed 0.1 °C [A]."""
    return tuple(
        int.from_bytes(
            frame[DATA + 2 * slot : DATA + 2 * slot + 2], "little", signed=True
        )
        / 10
        for frame in frames
        for slot in range(4)
    )
