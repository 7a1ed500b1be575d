"""Splits Daly notifications into frames of either protocol.

Modbus replies (D2, P81) are delimited by their byte count, legacy A5 frames
are 13 bytes long and start ``A5 01 <id> 08``; a notification may hold part of
a frame or several frames.

The work per byte is bounded, whatever the bytes. A failed candidate costs a
constant: the CRC of any stretch of the buffer follows from the CRC register
kept after every byte (see :func:`_window_crc_ok`), so no candidate is summed
again byte by byte, and consumed bytes are dropped in amortised batches.
"""

from __future__ import annotations

from ..codecs import modbus
from ..errors import ChecksumError, ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner
from . import a5, d2

MODBUS_STARTS = (d2.D2_ADDRESS, d2.P81_REPLY_ADDRESS)
STARTS = (a5.START, *MODBUS_STARTS)
_CRC_TABLE = modbus.CRC_TABLE


def _after_zero_byte(register: int) -> int:
    """The CRC register after one zero byte: a linear map of the register."""
    return _CRC_TABLE[register & 0xFF] ^ register >> 8


def _zero_byte_powers() -> tuple[tuple[int, ...], ...]:
    """``[n][bit]``: the register ``1 << bit`` after ``n`` zero bytes."""
    columns = tuple(1 << bit for bit in range(16))
    powers = [columns]
    for _ in range(d2.MAX_FRAME_LENGTH):
        columns = tuple(_after_zero_byte(c) for c in columns)
        powers.append(columns)
    return tuple(powers)


_ZERO_POWERS = _zero_byte_powers()


def _after_zero_bytes(register: int, count: int) -> int:
    """The CRC register after ``count`` zero bytes, in at most 16 steps."""
    columns = _ZERO_POWERS[count]
    result = 0
    bit = 0
    while register:
        if register & 1:
            result ^= columns[bit]
        register >>= 1
        bit += 1
    return result


def _window_crc_ok(prefix: list[int], start: int, length: int) -> bool:
    """Whether ``buf[start:start + length]`` ends in its valid Modbus CRC.

    ``prefix[k]`` is the CRC register, started at 0, after ``buf[:k]``. The
    register is linear in its start value and the data, so the register of the
    window started at 0xFFFF is ``Z^n(0xFFFF ^ prefix[start]) ^ prefix[end]``
    (``Z^n``: n zero bytes). A frame followed by its own CRC, low byte first,
    leaves the register at 0.
    """
    end = start + length
    return _after_zero_bytes(0xFFFF ^ prefix[start], length) == prefix[end]


class DalyRules(FrameRules):
    """Frames by length and checksum; the CRC register is kept after every byte.

    A5 replies come from ``a5_address`` (None: no A5 frames), Modbus replies
    from one of ``modbus_addresses``; a frame from any other address is never
    a candidate (another board on the same line).

    Recovery: a failed Modbus candidate costs a constant (:func:`_window_crc_ok`).
    """

    name = "Daly"
    starts = bytes(STARTS)

    def __init__(
        self,
        a5_address: int | None = a5.BMS_ADDRESS,
        modbus_addresses: tuple[int, ...] = MODBUS_STARTS,
    ) -> None:
        """Start with an empty CRC history."""
        a5_start = () if a5_address is None else (a5.START,)
        self.starts = bytes((*a5_start, *modbus_addresses))  # type: ignore[misc]
        self._a5_address = a5_address
        self._prefix = [0]  # CRC register after each byte of the buffer

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the frame that would start at ``pos``."""
        if buf[pos] == a5.START and self._a5_address is not None:
            if len(buf) - pos < 4:
                return NEED_MORE
            reply = buf[pos + 1] == self._a5_address and buf[pos + 3] == a5.DATA_LENGTH
            return a5.FRAME_LENGTH if reply else 0
        return d2.frame_length(bytes(buf[pos : pos + 3]))

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The checksum error of the candidate at ``pos``, or None if it is valid."""
        if buf[pos] == a5.START and self._a5_address is not None:
            body = buf[pos : pos + length - 1]
            if a5.checksum(body) != buf[pos + length - 1]:
                return ChecksumError("Daly A5 checksum mismatch")
        elif not _window_crc_ok(self._prefix, pos, length):
            return ChecksumError("Daly Modbus CRC mismatch")
        return None

    def appended(self, data: bytes) -> None:
        """Extend the CRC history by the new bytes."""
        prefix = self._prefix
        register = prefix[-1]
        for byte in data:
            register = _CRC_TABLE[(register ^ byte) & 0xFF] ^ register >> 8
            prefix.append(register)

    def dropped(self, count: int) -> None:
        """Forget the CRC history of the dropped bytes."""
        del self._prefix[:count]

    def reset(self) -> None:
        """Forget the CRC history."""
        self._prefix = [0]


class DalyReassembler(Scanner):
    """The shared scanner with Daly's rules (by default every BLE variant's)."""

    def __init__(
        self,
        a5_address: int | None = a5.BMS_ADDRESS,
        modbus_addresses: tuple[int, ...] = MODBUS_STARTS,
    ) -> None:
        """Start with an empty buffer."""
        super().__init__(DalyRules(a5_address, modbus_addresses))
