"""Tiny addressed responders: a Modbus register map and a YD/T1363 pack.

They encode from their own code, never from the integration's codecs: they
are an independent oracle, checked against the captured vectors through the
codec tests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping

type LineSender = Callable[[bytes], None]


def modbus_crc(data: bytes) -> int:
    """CRC-16/MODBUS, bit by bit (no table, unlike the integration)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _crc_frame(body: bytes) -> bytes:
    return body + bytes((modbus_crc(body) & 0xFF, modbus_crc(body) >> 8))


class Responder(ABC):
    """One pack on the bus: takes a complete request, may answer it.

    A family's demo responder (``WIRED_DEMOS``) also has ``pack``, the
    ground truth it encodes.
    """

    address: int

    @abstractmethod
    def request_length(self, buf: bytes) -> int | None:
        """Length of the request ``buf`` starts with, None when unknown yet.

        0 when ``buf`` cannot start a request of this protocol.
        """

    @abstractmethod
    def answer(self, request: bytes) -> bytes | None:
        """The reply to a complete request, None when it is not for this pack."""

    def connect_line(self, send: LineSender) -> None:
        """Hook: how to put a reply on the line later (one that answers late)."""


class ModbusResponder(Responder):
    """Holding and input registers at one slave address (0x03, 0x04, 0x06, 0x10)."""

    def __init__(self, address: int, registers: Mapping[int, int]) -> None:
        """Serve ``registers`` (address -> u16) for both read functions."""
        self.address = address
        self.registers = dict(registers)
        self.requests = 0

    def request_length(self, buf: bytes) -> int | None:
        """8 bytes for reads and 0x06; 9 + byte count for 0x10."""
        if len(buf) < 2:
            return None
        if buf[1] in (0x03, 0x04, 0x06):
            return 8
        if buf[1] == 0x10:
            return 9 + buf[6] if len(buf) >= 7 else None
        return 0

    def answer(self, request: bytes) -> bytes | None:
        """Answer a request to this address with a valid CRC."""
        body, crc = request[:-2], request[-2:]
        if request[0] != self.address or _crc_frame(body)[-2:] != crc:
            return None
        self.requests += 1
        function = request[1]
        first = int.from_bytes(request[2:4], "big")
        if function in (0x03, 0x04):
            count = int.from_bytes(request[4:6], "big")
            wanted = range(first, first + count)
            if not all(r in self.registers for r in wanted):
                return _crc_frame(bytes((self.address, function | 0x80, 0x02)))
            data = b"".join(self.registers[r].to_bytes(2, "big") for r in wanted)
            return _crc_frame(bytes((self.address, function, len(data))) + data)
        if function == 0x06:
            self.registers[first] = int.from_bytes(request[4:6], "big")
            return request
        values = request[7:-2]
        for i in range(0, len(values), 2):
            self.registers[first + i // 2] = int.from_bytes(values[i : i + 2], "big")
        return _crc_frame(request[:6])


def ydt_frame(ver: int, adr: int, cid1: int, cid2: int, info: bytes) -> bytes:
    """A YD/T1363 frame, from the spec's steps (LCHKSUM, then CHKSUM)."""
    text = info.hex().upper()
    lenid = len(text)
    nibbles = (lenid >> 8) + (lenid >> 4 & 0xF) + (lenid & 0xF)
    lchk = (~(nibbles % 16) + 1) & 0xF
    body = f"{ver:02X}{adr:02X}{cid1:02X}{cid2:02X}{lchk:X}{lenid:03X}{text}"
    check = (~sum(body.encode()) + 1) & 0xFFFF
    return b"~" + body.encode() + f"{check:04X}".encode() + b"\r"


class Ydt1363Responder(Responder):
    """A YD/T1363 pack: canned INFO per command (CID2), from address ``adr``."""

    def __init__(
        self,
        address: int,
        replies: Mapping[int, bytes],
        *,
        ver: int = 0x25,
        cid1: int = 0x46,
    ) -> None:
        """Answer each CID2 of ``replies`` with its INFO (binary)."""
        self.address = address
        self.replies = dict(replies)
        self.ver = ver
        self.cid1 = cid1
        self.requests = 0

    def request_length(self, buf: bytes) -> int | None:
        """Up to and including the CR."""
        if buf[:1] != b"~":
            return 0
        end = buf.find(b"\r")
        return None if end < 0 else end + 1

    def answer(self, request: bytes) -> bytes | None:
        """Answer a request to this address whose CHKSUM is right."""
        text = request[1:-1]
        try:
            adr, cid2 = int(text[2:4], 16), int(text[6:8], 16)
            check = int(text[-4:], 16)
        except ValueError:
            return None
        if adr != self.address or (sum(text[:-4]) + check) & 0xFFFF:
            return None
        self.requests += 1
        info = self.replies.get(cid2)
        if info is None:
            return ydt_frame(self.ver, adr, self.cid1, 0x04, b"")  # CID2 invalid
        return ydt_frame(self.ver, adr, self.cid1, 0x00, info)
