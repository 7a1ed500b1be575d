"""JK-PB ("inverter BMS") on RS485: Modbus triggers answered with JK02_32S frames.

A master (the pack at DIP address 0, the vendor's PC tool, or us) writes 0 to
one trigger register of a pack with Modbus function 0x10; the pack answers
with the 300-byte ``55 AA EB 90`` frame of that trigger (the BLE layout
JK02_32S, decoded by ``frames.py``), a 0x00 byte, the standard 8-byte 0x10
acknowledgement from its address and another 0x00. The frame itself carries
no address: only the request before it and the acknowledgement after it say
whose it is. The master at address 0 also sends its own frames unasked.

Source: mr-manuel/venus-os_dbus-serialbattery bms-docs/JKBMS-PB.md ("Protocol
2", captured on a bus of four packs), dbus-serialbattery/bms/jkbms_pb.py and
tests/bms/test_jkbms_pb.py (commit 358d3c7739df3545f88591120a5dd67ea2ba2c8f).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from ..codecs import modbus
from ..snapshot import SwitchKind
from .frames import FRAME_HEADER, FRAME_LENGTH, FrameType

MAX_ADDRESS = 15  # the DIP switch: 0 is the master, 1..15 the packs

# Trigger register -> the frame type it is answered with (JKBMS-PB.md,
# "Trigger commands").
TRIGGERS: dict[int, FrameType] = {
    0x161C: FrameType.DEVICE_INFO,
    0x161E: FrameType.SETTINGS,
    0x1620: FrameType.CELL_INFO,
}
TRIGGER_OF: dict[FrameType, int] = {kind: reg for reg, kind in TRIGGERS.items()}

# The user switches: u32 registers of the 0x1000 settings block (BatChargeEN,
# BatDisChargeEN, BalanEN at byte offsets 0x70, 0x74, 0x78; JK numbers its
# registers by byte offset). Written with function 0x10 as txubelaxu/esphome-jk-bms
# components/jk_rs485_bms/switch/__init__.py does (commit
# 10ce72518fcd543dd5e5f62a5b36fc895c26af9a, e.g. ``02 10 10 78 00 02 04 00 00
# 00 01 F6 69``); read back in the settings frame (offsets 118, 122, 126).
SWITCH_REGISTERS: dict[SwitchKind, int] = {
    SwitchKind.CHARGE: 0x1070,
    SwitchKind.DISCHARGE: 0x1074,
    SwitchKind.BALANCER: 0x1078,
}
REQUEST_MIN = 9  # address, 0x10, start, count, byte count, CRC (no data)


def trigger_request(address: int, kind: FrameType) -> bytes:
    """The request that makes the pack at ``address`` send a frame of ``kind``."""
    return modbus.write_multiple_request(address, TRIGGER_OF[kind], [0])


def switch_request(address: int, kind: SwitchKind, on: bool) -> bytes:
    """The write that turns one user switch of the pack at ``address`` on or off."""
    return modbus.write_multiple_request(address, SWITCH_REGISTERS[kind], [0, int(on)])


class Part(Enum):
    """What a reassembled piece of the line is."""

    FRAME = auto()  # a 300-byte 55 AA EB 90 frame
    REQUEST = auto()  # a function 0x10 write (a master's trigger or switch)
    ACK = auto()  # a slave's 8-byte 0x10 acknowledgement
    EXCEPTION = auto()  # a slave's 5-byte 0x90 exception


def part_of(piece: bytes) -> Part:
    """Classify a reassembled piece (the reassembler checked it)."""
    if piece.startswith(FRAME_HEADER):
        return Part.FRAME
    if piece[1] == modbus.WRITE_MULTIPLE | modbus.EXCEPTION_FLAG:
        return Part.EXCEPTION
    return Part.ACK if len(piece) == modbus.WRITE_REPLY_LENGTH else Part.REQUEST


def register_of(piece: bytes) -> int:
    """The start register of a request or acknowledgement."""
    return int.from_bytes(piece[2:4], "big")


def modbus_length(buf: bytes | bytearray, pos: int) -> int | None:
    """Length of the 0x10 request, acknowledgement or exception at ``pos``.

    None while more bytes are needed, 0 when none is there. A request and an
    acknowledgement share their first six bytes: the CRC tells them apart.
    """
    if len(buf) - pos < 2:
        return None
    if buf[pos] > MAX_ADDRESS:
        return 0
    function = buf[pos + 1]
    if function == modbus.WRITE_MULTIPLE | modbus.EXCEPTION_FLAG:
        return _valid(buf, pos, modbus.EXCEPTION_LENGTH)
    if function != modbus.WRITE_MULTIPLE:
        return 0
    if len(buf) - pos < modbus.WRITE_REPLY_LENGTH:
        return None
    if _valid(buf, pos, modbus.WRITE_REPLY_LENGTH):
        return modbus.WRITE_REPLY_LENGTH
    count = int.from_bytes(buf[pos + 4 : pos + 6], "big")
    size = buf[pos + 6]
    if not 1 <= count <= modbus.MAX_WRITE_COUNT or size != 2 * count:
        return 0
    return _valid(buf, pos, REQUEST_MIN + size)


def _valid(buf: bytes | bytearray, pos: int, length: int) -> int | None:
    """``length`` when the CRC of those bytes holds, None before they are in."""
    if len(buf) - pos < length:
        return None
    return length if modbus.crc_ok(memoryview(buf)[pos : pos + length]) else 0


@dataclass(frozen=True, slots=True)
class Paired:
    """A frame with the address that was asked for it and acknowledged it."""

    address: int
    frame: bytes


class Pairing:
    """Pairs each frame with the request before it and the ack after it.

    A frame is published only when, in this order and with nothing between,
    a trigger asked ``address`` for its type, the frame came, and ``address``
    acknowledged that trigger. A frame nobody asked for (the master's own),
    one whose ack is missing or from another address, and an ack without its
    frame publish nothing.
    """

    def __init__(self) -> None:
        """Nothing asked yet."""
        self._asked: tuple[int, int] | None = None
        self._frame: bytes | None = None

    def reset(self) -> None:
        """Forget a half-seen exchange."""
        self._asked = None
        self._frame = None

    def asked(self, address: int, register: int) -> None:
        """A trigger went to ``address`` (heard on the line, or sent by us)."""
        self._asked = (address, register) if register in TRIGGERS else None
        self._frame = None

    def take(self, piece: bytes) -> Paired | None:
        """Feed one reassembled piece; a completed pair comes back."""
        part = part_of(piece)
        if part is Part.REQUEST:
            self.asked(piece[0], register_of(piece))
            return None
        asked, frame = self._asked, self._frame
        if part is Part.FRAME:
            fits = (
                asked is not None
                and frame is None
                and len(piece) == FRAME_LENGTH
                and TRIGGERS[asked[1]] == piece[4]
            )
            self._frame = piece if fits else None
            if not fits:
                self._asked = None
            return None
        self.reset()
        if (
            part is Part.ACK
            and asked is not None
            and frame is not None
            and (piece[0], register_of(piece)) == asked
        ):
            return Paired(asked[0], frame)
        return None
