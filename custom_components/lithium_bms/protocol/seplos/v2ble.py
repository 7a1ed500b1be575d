"""Seplos V2 over Bluetooth: the binary form of the V2 frames (service FF00).

The BP0x Bluetooth module does not carry the ASCII ``~...CR`` frames of the
wire: its frames are binary. ``7E VER ADR CID1 CID2 LEN(2) INFO CRC(2) 0D``
for a request (VER 0x10, CID1 0x46), ``7E VER ADR CID2 RTN LEN(2) INFO CRC(2)
0D`` for a reply (VER 0x14, RTN 0 for a normal reply); LEN counts the INFO
bytes and CRC is CRC-16/XMODEM of the bytes between 7E and CRC. Sources, both
decoders: patman15/aiobmsble ``aiobmsble/bms/seplos_v2_bms.py`` @
b0567331025033d33729385fa89a1198275d6486 and syssi/esphome-seplos-bms
``components/seplos_bms_ble/seplos_bms_ble.cpp`` @
dedb6bb404330241f34a744bae1a128c14eb2e24, whose capture
``docs/pdus/v2/btsnoop_hci_1101-10E-SP76-16S.log`` (same commit) holds the
requests and replies of a 16-cell pack.

Commands read here: 0x51 (manufacturer information) and 0x61 (single
machine data, INFO ``00``): cells, probes, the analog values of the V2.0
telemetry, then per-cell and per-probe byte alarms, the current and voltage
alarms, system state, switch state, P alarm event bytes (events 1-8),
balancing and disconnection (one bit a cell, eight cells a byte, cell 1 in
bit 0 of the first byte, as syssi reads it). aiobmsble 0.31.0 (PyPI) reads
the switch state and the alarm events of the 0x61 reply at the same places.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

from ..errors import ChecksumError, FrameError, ProtocolError
from .frames import (
    MAX_CELLS,
    BitTable,
    SeplosMeasurement,
    SeplosStatus,
    bit_alarms,
    cells_of,
    supported,
    temperature,
)
from .v2 import EVENT_TABLES, SYSTEM_EVENTS

SOI = 0x7E
EOI = 0x0D
REQUEST_VER = 0x10
REPLY_VER = 0x14
CID1 = 0x46
INFO = 0x51
SINGLE = 0x61
HEADER_LENGTH = 7  # SOI, VER, ADR, two command bytes, LEN
OVERHEAD = HEADER_LENGTH + 3  # CRC and EOI
# The longest reply in the capture is the 169-byte parameter INFO (0x47).
MAX_INFO = 0xFF
# A 0x61 INFO after the probes: the 19 bytes of analog values, two byte
# alarms, system state, switch state and the count of alarm event bytes.
ANALOG_LENGTH = 19
EVENT_COUNT = 8
EVENT_8 = 7
SUPPORTED_ALARMS = supported(*EVENT_TABLES, SYSTEM_EVENTS)
EVENTS: tuple[BitTable, ...] = (*EVENT_TABLES, SYSTEM_EVENTS)


def crc_xmodem(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection.

    ``binascii.crc_hqx`` computes exactly this CRC (CRC-CCITT, non-reflected,
    no final XOR) when started at 0.
    """
    return binascii.crc_hqx(data, 0)


def build_request(command: int, info: bytes = b"") -> bytes:
    """A request to the module (ADR 0, as both public readers send it)."""
    body = bytes((REQUEST_VER, 0x00, CID1, command)) + len(info).to_bytes(2, "big")
    body += info
    return bytes((SOI,)) + body + crc_xmodem(body).to_bytes(2, "big") + bytes((EOI,))


def frame_length(buf: bytes | bytearray, pos: int = 0) -> int | None:
    """Length of the reply that starts at ``pos``: None to tell, 0 for none."""
    head = buf[pos : pos + HEADER_LENGTH]
    if head[:1] != bytes((SOI,)):
        return 0
    if len(head) > 1 and head[1] != REPLY_VER:
        return 0
    if len(head) < HEADER_LENGTH:
        return None
    info = int.from_bytes(head[5:7], "big")
    return OVERHEAD + info if info <= MAX_INFO else 0


def check_frame(buf: bytes | bytearray, pos: int, length: int) -> ProtocolError | None:
    """The error that refuses a complete candidate, None when it is valid."""
    end = pos + length
    if buf[end - 1] != EOI:
        return FrameError("Seplos V2 BLE frame without its 0x0D end")
    if crc_xmodem(memoryview(buf)[pos + 1 : end - 3]) != int.from_bytes(
        buf[end - 3 : end - 1], "big"
    ):
        return ChecksumError("Seplos V2 BLE CRC mismatch")
    return None


def is_reply(command: int, frame: bytes) -> bool:
    """Whether a valid frame replies to ``command`` (normally or not)."""
    return frame[3] == command


def reply_info(frame: bytes) -> bytes:
    """The INFO of a normal reply; a return code raises."""
    if frame[4]:
        raise FrameError(f"Seplos V2 pack returned code {frame[4]:#04x}")
    return frame[HEADER_LENGTH:-3]


class _Reader:
    """Reads an INFO field by field, refusing one that ends too early."""

    def __init__(self, info: bytes) -> None:
        self.info = info
        self.pos = 0

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.info):
            raise FrameError("Seplos V2 BLE INFO ends too early")
        chunk, self.pos = self.info[self.pos : end], end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self, *, signed: bool = False) -> int:
        return int.from_bytes(self.take(2), "big", signed=signed)


@dataclass(frozen=True, slots=True)
class SingleMachine:
    """One 0x61 reply, decoded."""

    measurement: SeplosMeasurement
    status: SeplosStatus


def decode_single(info: bytes) -> SingleMachine:
    """The single machine data (0x61); its INFO must end where the counts say."""
    read = _Reader(info)
    read.take(2)  # device address, reserved
    cells = read.u8()
    if not 1 <= cells <= MAX_CELLS:
        raise FrameError(f"Seplos V2 BLE cell count {cells} is outside 1-{MAX_CELLS}")
    voltages = tuple(read.u16() / 1000 for _ in range(cells))
    probes = read.u8()
    if probes < 3:
        raise FrameError(f"Seplos V2 BLE probe count {probes} is below 3")
    temps = tuple(temperature(read.u16()) for _ in range(probes))
    current = read.u16(signed=True) / 100
    voltage = read.u16() / 100
    remaining = read.u16() / 100
    read.u8()  # custom number
    full = read.u16() / 100
    soc = read.u16() / 10
    rated = read.u16() / 100
    cycles = read.u16()
    soh = read.u16() / 10
    read.take(2)  # port voltage
    read.take(cells + probes + 2)  # byte alarms: cells, probes, current, voltage
    read.u8()  # system state
    switches = read.u8()
    count = read.u8()
    if count < EVENT_COUNT:
        raise FrameError(f"Seplos V2 BLE alarm event count {count} is below 8")
    events = read.take(count)
    masks = read.take((cells + 7) // 8)
    read.take((cells + 7) // 8)  # disconnection
    if read.pos != len(info):
        raise FrameError("Seplos V2 BLE 0x61 INFO longer than its counts")
    flags = (*events[: len(EVENT_TABLES)], events[EVENT_8])
    measurement = SeplosMeasurement(
        voltage=voltage,
        current=current,
        cell_voltages=voltages,
        cell_temperatures=temps[:-2],
        ambient_temperature=temps[-2],
        mosfet_temperature=temps[-1],
        remaining_capacity=remaining,
        full_capacity=full,
        design_capacity=rated,
        state_of_charge=soc,
        state_of_health=soh,
        cycles=cycles,
        reported_cell_count=cells,
    )
    status = SeplosStatus(
        alarms=bit_alarms(zip(flags, EVENTS, strict=True)),
        fets=switches,
        balancing_cells=cells_of(*masks),
        protection_code=int.from_bytes(bytes(flags), "big"),
    )
    return SingleMachine(measurement, status)


@dataclass(frozen=True, slots=True)
class ManufacturerInfo:
    """The 0x51 reply: the hardware version and the software version."""

    hardware: str | None
    software: str


def decode_info(info: bytes) -> ManufacturerInfo:
    """20 bytes of device name, 10 of hardware version, 2 of software."""
    read = _Reader(info)
    read.take(20)  # device name: the CAN protocol in the captures
    hardware = read.take(10).decode("ascii", "replace").strip(" \x00") or None
    major, minor = read.take(2)
    return ManufacturerInfo(hardware, f"{major}.{minor}")
