"""YD/T1363-3 ASCII frames ("Pylon-like", Pace, Seplos V2): codec and finder.

``~ VER ADR CID1 CID2 LENGTH INFO CHKSUM CR``: after the SOI ``~`` every field
is hexadecimal ASCII, two characters a byte. LENGTH is 16 bits: the LCHKSUM
nibble, then LENID, the count of ASCII characters of INFO (12 bits). CHKSUM is
the two's complement of the sum of the ASCII codes between SOI and CHKSUM,
modulo 65536 (SEPLOS BMS Communication Protocol V2.0, sections 3.2 and 3.3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from ..errors import ChecksumError, FrameError, ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner

SOI = 0x7E
EOI = 0x0D
HEADER_LENGTH = 13  # SOI, VER, ADR, CID1, CID2 and LENGTH
MAX_LENID = 0xFFF
OVERHEAD = HEADER_LENGTH + 4 + 1  # the header, CHKSUM and EOI
MAX_FRAME_LENGTH = OVERHEAD + MAX_LENID
RTN_NORMAL = 0x00
_HEX = re.compile(rb"[0-9A-Fa-f]*")


def lchksum(lenid: int) -> int:
    """The LCHKSUM nibble of a LENID: the nibbles' sum, negated modulo 16."""
    total = (lenid & 0xF) + (lenid >> 4 & 0xF) + (lenid >> 8 & 0xF)
    return -total & 0xF


def length_field(lenid: int) -> int:
    """The 16-bit LENGTH: LCHKSUM in the top nibble, LENID below."""
    if not 0 <= lenid <= MAX_LENID:
        raise ValueError(f"YD/T1363 LENID {lenid} exceeds {MAX_LENID}")
    return lchksum(lenid) << 12 | lenid


def chksum(ascii_body: bytes | bytearray | memoryview) -> int:
    """CHKSUM of the characters between SOI and CHKSUM."""
    return -sum(ascii_body) & 0xFFFF


def _hex(value: int, digits: int) -> bytes:
    return f"{value:0{digits}X}".encode()


def build_frame(ver: int, adr: int, cid1: int, cid2: int, info: bytes = b"") -> bytes:
    """A frame; ``info`` is binary and goes on the line as hexadecimal ASCII."""
    for name, value in (("VER", ver), ("ADR", adr), ("CID1", cid1), ("CID2", cid2)):
        if not 0 <= value <= 0xFF:
            raise ValueError(f"YD/T1363 {name} {value} is not a byte")
    encoded = info.hex().upper().encode()
    body = (
        _hex(ver, 2)
        + _hex(adr, 2)
        + _hex(cid1, 2)
        + _hex(cid2, 2)
        + _hex(length_field(len(encoded)), 4)
        + encoded
    )
    return bytes((SOI,)) + body + _hex(chksum(body), 4) + bytes((EOI,))


class Ydt1363Frame(NamedTuple):
    """A validated frame; ``info`` decoded from its hexadecimal ASCII."""

    ver: int
    adr: int
    cid1: int
    cid2: int
    info: bytes


def _is_hex(data: bytes | bytearray, start: int, end: int) -> bool:
    match = _HEX.match(data, start, end)
    return match is not None and match.end() == end


def _field(data: bytes | bytearray, start: int, digits: int) -> int:
    return int(data[start : start + digits], 16)


def header_length(buf: bytes | bytearray, pos: int = 0) -> int | None:
    """Total length of the frame whose header starts at ``buf[pos]``.

    None while the header is incomplete; 0 when no frame starts there (not
    ``~``, a character that is not hexadecimal, or a wrong LCHKSUM).
    """
    if buf[pos] != SOI:
        return 0
    available = min(len(buf), pos + HEADER_LENGTH)
    if not _is_hex(buf, pos + 1, available):
        return 0
    if available < pos + HEADER_LENGTH:
        return NEED_MORE
    length = _field(buf, pos + 9, 4)
    lenid = length & MAX_LENID
    if length >> 12 != lchksum(lenid):
        return 0
    return OVERHEAD + lenid


def check_frame(buf: bytes | bytearray, pos: int, length: int) -> ProtocolError | None:
    """The error that refuses the complete candidate, None when it is valid."""
    end = pos + length
    if buf[end - 1] != EOI:
        return FrameError("YD/T1363 frame without its CR end")
    if not _is_hex(buf, pos + HEADER_LENGTH, end - 1):
        return FrameError("YD/T1363 frame with a character that is not hexadecimal")
    if (length - OVERHEAD) % 2:
        return FrameError("YD/T1363 INFO of an odd number of characters")
    if chksum(memoryview(buf)[pos + 1 : end - 5]) != _field(buf, end - 5, 4):
        return ChecksumError("YD/T1363 CHKSUM mismatch")
    return None


def parse_frame(frame: bytes) -> Ydt1363Frame:
    """Validate one complete frame (SOI, LENGTH, INFO, CHKSUM, EOI)."""
    length = header_length(frame) if frame else 0
    if not length or len(frame) != length:
        raise FrameError(f"not a YD/T1363 frame: {frame[:40]!r}")
    error = check_frame(frame, 0, length)
    if error is not None:
        raise error
    return Ydt1363Frame(
        ver=_field(frame, 1, 2),
        adr=_field(frame, 3, 2),
        cid1=_field(frame, 5, 2),
        cid2=_field(frame, 7, 2),
        info=bytes.fromhex(frame[HEADER_LENGTH:-5].decode()),
    )


class Ydt1363Rules(FrameRules):
    """Frames by their LENGTH and CHKSUM, from some addresses only.

    Recovery: ``~`` and CR never occur inside a frame, so a candidate that
    waits for bytes while one of them follows is a partial frame: the scan
    resumes at the next ``~``.
    """

    name = "YD/T1363"
    starts = bytes((SOI,))

    def __init__(self, addresses: Iterable[int] | None = None) -> None:
        """Accept frames from ``addresses`` (every address when None)."""
        self.addresses = None if addresses is None else frozenset(addresses)

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the frame that would start at ``pos``."""
        length = header_length(buf, pos)
        foreign = (
            length
            and self.addresses is not None
            and _field(buf, pos + 3, 2) not in self.addresses
        )
        return 0 if foreign else length

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error that refuses the complete candidate."""
        return check_frame(buf, pos, length)

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Resume at the next ``~`` once a ``~`` or CR shows the frame is cut."""
        later = buf.find(SOI, pos + 1)
        end = buf.find(EOI, pos + 1)
        if later < 0 and end < 0:
            return None
        if later < 0:
            return len(buf)
        return later


class Ydt1363Reassembler(Scanner):
    """The shared scanner with YD/T1363 rules."""

    def __init__(self, addresses: Iterable[int] | None = None) -> None:
        """Start with an empty buffer."""
        super().__init__(Ydt1363Rules(addresses))
