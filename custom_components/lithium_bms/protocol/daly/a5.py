"""The legacy Daly "A5" protocol: 13-byte frames and their decoders.

Request ``A5 <host> <id> 08 d0..d7 <sum>``, reply ``A5 01 <id> 08 d0..d7 <sum>``;
the sum is the low byte of the sum of the 12 bytes before it. Values are
big-endian. Cells (0x95) and temperatures (0x96) come as several frames, each
numbered 1.. in its first data byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ChecksumError, FrameError
from ..snapshot import Alarm
from .frames import decode_alarm_bytes

START = 0xA5
BMS_ADDRESS = 0x01  # the address every reply comes from
DATA_LENGTH = 8
FRAME_LENGTH = 13
HOST_BLE = 0x80
HOST_UART = 0x40
# On RS485 each board has a number, 1 to 16: it is asked at host address
# 0x3F + number and answers from the number (ai-republic/bms-to-inverter
# bms-daly-rs485/.../DalyBmsRS485Processor.java @7ca7b30, sendMessage;
# board 1 is 0x40, the UART host, and answers from 0x01 as every A5 reply).
BOARDS = tuple(range(1, 17))
BOARD_HOST_OFFSET = 0x3F

PACK = 0x90
CELL_RANGE = 0x91
TEMPERATURE_RANGE = 0x92
MOSFET = 0x93
STATUS = 0x94
CELLS = 0x95
TEMPERATURES = 0x96
BALANCING = 0x97
FAILURES = 0x98
DISCHARGE_SWITCH = 0xD9
CHARGE_SWITCH = 0xDA

CELLS_PER_FRAME = 3
TEMPERATURES_PER_FRAME = 7
MAX_CELL_FRAMES = 16
CURRENT_OFFSET = 30000
TEMP_OFFSET = 40


def board_host(board: int) -> int:
    """The host address that asks board ``board`` on an RS485 line."""
    if board not in BOARDS:
        raise ValueError(f"Daly board number {board} is outside 1-16")
    return BOARD_HOST_OFFSET + board


def checksum(body: bytes | bytearray) -> int:
    """Low byte of the sum of the bytes."""
    return sum(body) & 0xFF


def build_request(command: int, host: int = HOST_BLE, data: bytes = b"") -> bytes:
    """A request frame; ``data`` is zero-padded to eight bytes."""
    if len(data) > DATA_LENGTH:
        raise ValueError("A5 data is at most eight bytes")
    body = bytes((START, host, command, DATA_LENGTH)) + data.ljust(DATA_LENGTH, b"\0")
    return body + bytes((checksum(body),))


@dataclass(frozen=True, slots=True)
class A5Frame:
    """A validated frame: command id and its eight data bytes."""

    command: int
    data: bytes


def parse_frame(frame: bytes) -> A5Frame:
    """Validate one 13-byte frame."""
    if len(frame) != FRAME_LENGTH or frame[0] != START or frame[3] != DATA_LENGTH:
        raise FrameError(f"not a Daly A5 frame: {frame.hex()}")
    if checksum(frame[:-1]) != frame[-1]:
        raise ChecksumError("Daly A5 checksum mismatch")
    return A5Frame(frame[2], bytes(frame[4:12]))


def _u16(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 2], "big")


@dataclass(frozen=True, slots=True)
class A5Pack:
    """0x90: pack voltage, current and SOC."""

    voltage: float
    current: float
    soc: float


def decode_pack(data: bytes) -> A5Pack:
    """Decode 0x90 (byte 2-3, the acquisition voltage, is ignored)."""
    return A5Pack(
        voltage=round(_u16(data, 0) * 0.1, 1),
        current=round((_u16(data, 4) - CURRENT_OFFSET) * 0.1, 1),
        soc=round(_u16(data, 6) * 0.1, 1),
    )


@dataclass(frozen=True, slots=True)
class A5Mosfet:
    """0x93: direction, MOSFETs, BMS life counter and remaining charge."""

    state: int
    charge_fet: bool
    discharge_fet: bool
    life: int
    remaining_capacity: float


def decode_mosfet(data: bytes) -> A5Mosfet:
    """Decode 0x93 (remaining capacity is sent in mAh).

    The state is 0-2 and each MOSFET byte 0 or 1; other values come from a
    frame that only passed its one-byte sum (:class:`FrameError`).
    """
    if data[0] > 2 or data[1] > 1 or data[2] > 1:
        raise FrameError(f"Daly MOSFET frame out of range: {data[:3].hex()}")
    return A5Mosfet(
        state=data[0],
        charge_fet=bool(data[1]),
        discharge_fet=bool(data[2]),
        life=data[3],
        remaining_capacity=int.from_bytes(data[4:8], "big") / 1000,
    )


@dataclass(frozen=True, slots=True)
class A5Status:
    """0x94: counts, charger/load detection, digital I/O and cycles."""

    cell_count: int
    temperature_count: int
    charger: bool
    load: bool
    dio: int
    cycles: int


def decode_status(data: bytes) -> A5Status:
    """Decode 0x94."""
    return A5Status(
        cell_count=data[0],
        temperature_count=data[1],
        charger=bool(data[2]),
        load=bool(data[3]),
        dio=data[4],
        cycles=_u16(data, 5),
    )


def frames_needed(count: int, per_frame: int) -> int:
    """How many frames of a multi-frame reply hold ``count`` values."""
    return -(-count // per_frame)


def _check_numbering(frames: Sequence[bytes], needed: int, what: str) -> None:
    if len(frames) < needed:
        raise FrameError(f"Daly {what}: {len(frames)} of {needed} frames received")
    for expected, data in enumerate(frames[:needed], start=1):
        if data[0] != expected:
            raise FrameError(f"Daly {what}: frame {expected} missing (got {data[0]})")


def decode_cells(frames: Sequence[bytes], count: int) -> tuple[float, ...]:
    """Cell voltages (V) from the 0x95 frames' data, frame 1 first.

    Extra frames (BLE sends 16 whatever the cell count) are ignored; a missing
    or out-of-order frame among the needed ones raises :class:`FrameError`.
    """
    if count > MAX_CELL_FRAMES * CELLS_PER_FRAME:
        raise FrameError(f"Daly cell count {count} is out of range")
    _check_numbering(frames, frames_needed(count, CELLS_PER_FRAME), "cell voltages")
    values = [
        _u16(data, 1 + 2 * i) / 1000 for data in frames for i in range(CELLS_PER_FRAME)
    ]
    return tuple(values[:count])


def decode_temperatures(frames: Sequence[bytes], count: int) -> tuple[float, ...]:
    """Temperatures (°C) from the 0x96 frames' data, frame 1 first."""
    _check_numbering(
        frames, frames_needed(count, TEMPERATURES_PER_FRAME), "temperatures"
    )
    values = [
        float(data[1 + i] - TEMP_OFFSET)
        for data in frames
        for i in range(TEMPERATURES_PER_FRAME)
    ]
    return tuple(values[:count])


def decode_balancing(data: bytes, count: int) -> frozenset[int]:
    """Balancing cells (1-based) from 0x97: cell 1 is bit 0 of byte 0."""
    bits = int.from_bytes(data, "little")
    return frozenset(cell for cell in range(1, count + 1) if bits >> (cell - 1) & 1)


def decode_failures(data: bytes) -> tuple[frozenset[Alarm], int]:
    """Named alarms and the raw 64-bit value (big-endian) of 0x98."""
    return decode_alarm_bytes(data), int.from_bytes(data, "big")
