"""PACEEX / PeiCheng Bluetooth modules: binary frames and decoders (pure functions).

A frame is ``9A``, a 6-byte type (``00 00``, the command word, ``00 00``),
the data length, the data, CRC-16/MODBUS of every byte before it (high byte
first) and ``9D``; a reply repeats the type of its request. Source of every
layout: patman15/aiobmsble ``aiobmsble/bms/pace_bms.py`` (0.31.0, after PR
#259 "read pack-level values (0x0a01) instead of system-level (0x0a00)") and
the captured replies of its ``tests/bms/test_pace_bms.py``
@ b0567331025033d33729385fa89a1198275d6486. The only public decoder: no
second one exists (batmon-ha bundles aiobmsble's).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ..codecs.modbus import crc16
from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields
from ..snapshot import Temperature, TemperatureKind

HEAD = 0x9A
TAIL = 0x9D
# Head, type, length, CRC and tail around the data.
OVERHEAD = 11
LENGTH_AT = 7
# Temperatures are in 0.1 K with 0 °C at 2731; a probe that reads 0 is absent.
KELVIN = 2731
# The first six cell slots carry a probe: four cells, the MOSFET, ambient.
PROBE_KINDS = (
    *(TemperatureKind.CELL,) * 4,
    TemperatureKind.MOSFET,
    TemperatureKind.AMBIENT,
)
# What aiobmsble sends with 0x0a01 and 0x0a02 (the module's own pack).
OWN_PACK = b"\x01\x01"


class BleCommand(IntEnum):
    """The command word of a request's type."""

    VERSIONS = 0x0001
    SERIAL = 0x0002
    # All parallel packs: only the master answers with values, a slave with
    # zeros (aiobmsble PR #259). Never read.
    SYSTEM = 0x0A00
    PACK = 0x0A01
    CELLS = 0x0A02


def frame_type(command: BleCommand) -> bytes:
    """The 6-byte type of a request and of its reply."""
    return b"\x00\x00" + command.to_bytes(2, "big") + b"\x00\x00"


def ble_request(command: BleCommand, data: bytes = b"") -> bytes:
    """A complete request frame."""
    body = bytes((HEAD,)) + frame_type(command) + bytes((len(data),)) + data
    return body + crc16(body).to_bytes(2, "big") + bytes((TAIL,))


def frame_length(head: bytes) -> int:
    """The length of the frame whose first 8 bytes are ``head``."""
    return OVERHEAD + head[LENGTH_AT]


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole valid frame."""
    if len(frame) < OVERHEAD or frame[0] != HEAD:
        raise FrameError("not a PACE BLE frame")
    if len(frame) != frame_length(frame) or frame[-1] != TAIL:
        raise FrameError("PACE BLE frame length or tail wrong")
    if crc16(frame[:-3]) != int.from_bytes(frame[-3:-1], "big"):
        raise ChecksumError("PACE BLE CRC mismatch")


def is_reply(frame: bytes, command: BleCommand) -> bool:
    """Whether a reassembled frame answers ``command`` (it repeats the type)."""
    return frame[1:LENGTH_AT] == frame_type(command)


def frame_data(frame: bytes) -> bytes:
    """The data of a valid frame."""
    check_frame(frame)
    return frame[LENGTH_AT + 1 : -3]


# The 0x0a01 reply's data (aiobmsble ``_FIELDS``, "pack values, 0x0a01").
PACK_FIELDS = Layout(
    Field("current", 1, 2, signed=True, scale=0.01, decimals=2),
    Field("voltage", 3, 2, scale=0.01, decimals=2),
    Field("remaining_capacity", 5, 2, scale=0.01, decimals=2),
    Field("design_capacity", 9, 2, scale=0.01, decimals=2),
    Field("state_of_charge", 11, 1),
    Field("state_of_health", 12, 1),
    Field("cycles", 13, 2),
)
PACK_SIZE = 15


@dataclass(frozen=True, slots=True)
class PackValues:
    """One pack's 0x0a01 reply. Units: V, A (+ charging), Ah, %."""

    voltage: float
    current: float
    remaining_capacity: float
    design_capacity: float
    state_of_charge: float
    state_of_health: float
    cycles: int


def decode_pack(data: bytes) -> PackValues:
    """Decode the data of a 0x0a01 reply."""
    if len(data) < PACK_SIZE:
        raise FrameError(f"PACE BLE pack data too short ({len(data)} B)")
    values = read_fields(PACK_FIELDS, data)
    return PackValues(
        voltage=values["voltage"],
        current=values["current"],
        remaining_capacity=values["remaining_capacity"],
        design_capacity=values["design_capacity"],
        state_of_charge=values["state_of_charge"],
        state_of_health=values["state_of_health"],
        cycles=int(values["cycles"]),
    )


@dataclass(frozen=True, slots=True)
class Cells:
    """One pack's 0x0a02 reply: every cell (V) and the probes (°C)."""

    cells: tuple[float, ...]
    temperatures: tuple[Temperature, ...]


def decode_cells(data: bytes) -> Cells:
    """Decode the data of a 0x0a02 reply.

    A byte, the pack voltage (10 mV), the cell count, then per cell its
    voltage (mV) and a probe word; the words of the first six cells are the
    probes of :data:`PROBE_KINDS`.
    """
    if len(data) < 4 or len(data) < 4 + 4 * data[3]:
        raise FrameError(f"PACE BLE cell data too short ({len(data)} B)")
    words = [
        (int.from_bytes(data[i : i + 2], "big"), int.from_bytes(data[i + 2 : i + 4]))
        for i in range(4, 4 + 4 * data[3], 4)
    ]
    return Cells(
        cells=tuple(mv / 1000 for mv, _ in words),
        temperatures=tuple(
            Temperature(kind, round((raw - KELVIN) / 10, 1))
            for kind, (_, raw) in zip(PROBE_KINDS, words, strict=False)
            if raw
        ),
    )


def decode_serial(data: bytes) -> str:
    """The 0x0002 reply: its length, then the serial number."""
    return _text(data[1 : 1 + data[0]]) if data else ""


def decode_versions(data: bytes) -> tuple[str, ...]:
    """The 0x0001 reply: a byte, then texts that each follow their length.

    The first is the software version, the third the hardware version
    (aiobmsble's offsets 10 and 65 of the frame).
    """
    texts: list[str] = []
    pos = 1
    while pos < len(data):
        end = pos + 1 + data[pos]
        if end > len(data):
            raise FrameError("PACE BLE version text cut short")
        texts.append(_text(data[pos + 1 : end]))
        pos = end
    return tuple(texts)


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace").strip()
