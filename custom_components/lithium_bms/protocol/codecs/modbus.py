"""Modbus RTU: CRC-16/MODBUS, requests, responses and a frame finder.

A frame is ``<address> <function> <data> <CRC low> <CRC high>`` (Modbus over
Serial Line V1.02, section 2.5.1). Registers are big-endian u16. Responses to
reads carry a byte count; writes are answered with the address and count
(0x10) or the register and value (0x06); an exception response sets bit 7 of
the function and carries one exception code.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import ChecksumError, FrameError, ProtocolError
from ..fields import unpack_run
from ..scanner import NEED_MORE, FrameRules, Scanner

READ_COILS = 0x01
READ_DISCRETE = 0x02
READ_HOLDING = 0x03
READ_INPUT = 0x04
WRITE_SINGLE = 0x06
WRITE_MULTIPLE = 0x10
EXCEPTION_FLAG = 0x80
BIT_READS = frozenset({READ_COILS, READ_DISCRETE})
REGISTER_READS = frozenset({READ_HOLDING, READ_INPUT})
READS = BIT_READS | REGISTER_READS
WRITES = frozenset({WRITE_SINGLE, WRITE_MULTIPLE})
FUNCTIONS = READS | WRITES
MAX_BYTE_COUNT = 250  # 125 registers, the largest read the spec allows
MAX_WRITE_COUNT = 123
MAX_BIT_COUNT = 2000
MAX_FRAME_LENGTH = 5 + MAX_BYTE_COUNT
EXCEPTION_LENGTH = 5
WRITE_REPLY_LENGTH = 8
MAX_ADDRESS = 247
REQUEST_LENGTH = 8  # the reads and 0x06: address, function, two u16, CRC


def _table_entry(value: int) -> int:
    for _ in range(8):
        value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
    return value


# CRC-16/MODBUS (reflected 0xA001) one byte at a time: the register ``crc``
# takes byte ``b`` as ``CRC_TABLE[(crc ^ b) & 0xFF] ^ crc >> 8``.
CRC_TABLE = tuple(_table_entry(i) for i in range(256))


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/MODBUS (reflected 0xA001, init 0xFFFF) of ``data``."""
    return _crc16(bytes(data))


# The same frame is checked several times on its way (the reassembly, the
# reply's parser) and every update sends the same requests: the newest sums
# are kept, since a byte loop in Python costs far more than a lookup.
@functools.lru_cache(maxsize=64)
def _crc16(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc = CRC_TABLE[(crc ^ byte) & 0xFF] ^ crc >> 8
    return crc


def with_crc(body: bytes) -> bytes:
    """``body`` followed by its CRC, low byte first."""
    return body + crc16(body).to_bytes(2, "little")


def crc_ok(frame: bytes | bytearray | memoryview) -> bool:
    """Whether a frame ends in the CRC of the bytes before it."""
    return len(frame) > 2 and crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little")


def _u16(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"Modbus {what} {value} is not a u16")
    return value.to_bytes(2, "big")


def _head(address: int, function: int) -> bytes:
    if not 0 <= address <= MAX_ADDRESS:
        raise ValueError(f"Modbus address {address} is outside 0-{MAX_ADDRESS}")
    return bytes((address, function))


def read_request(
    address: int, start: int, count: int, function: int = READ_HOLDING
) -> bytes:
    """A read: registers (0x03 holding, 0x04 input) or bits (0x01, 0x02)."""
    if function not in READS:
        raise ValueError(f"Modbus function {function:#04x} is not a read")
    limit = MAX_BIT_COUNT if function in BIT_READS else MAX_BYTE_COUNT // 2
    if not 1 <= count <= limit:
        raise ValueError(f"Modbus read of {count} items")
    return with_crc(
        _head(address, function) + _u16(start, "register") + _u16(count, "count")
    )


def write_single_request(address: int, register: int, value: int) -> bytes:
    """A "write single register" (0x06); the slave answers with the same frame."""
    return with_crc(
        _head(address, WRITE_SINGLE) + _u16(register, "register") + _u16(value, "value")
    )


def write_multiple_request(address: int, start: int, values: Sequence[int]) -> bytes:
    """A "write multiple registers" (0x10)."""
    if not 1 <= len(values) <= MAX_WRITE_COUNT:
        raise ValueError(f"Modbus write of {len(values)} registers")
    data = b"".join(_u16(v, "value") for v in values)
    return with_crc(
        _head(address, WRITE_MULTIPLE)
        + _u16(start, "register")
        + _u16(len(values), "count")
        + bytes((len(data),))
        + data
    )


def response_length(
    head: bytes | bytearray, pos: int = 0, functions: Iterable[int] = FUNCTIONS
) -> int | None:
    """Total length of the response that would start at ``head[pos]``.

    None while more bytes are needed; 0 when no response of ``functions``
    can start there.
    """
    if len(head) - pos < 2:
        return NEED_MORE
    function = head[pos + 1]
    if function & EXCEPTION_FLAG:
        return EXCEPTION_LENGTH if function & 0x7F in functions else 0
    if function not in functions:
        return 0
    if function in WRITES:
        return WRITE_REPLY_LENGTH
    if len(head) - pos < 3:
        return NEED_MORE
    count = head[pos + 2]
    odd = count % 2 and function in REGISTER_READS
    if count == 0 or odd or count > MAX_BYTE_COUNT:
        return 0
    return 5 + count


class ModbusResponse(NamedTuple):
    """A validated response.

    ``data`` is what follows the function code without the byte count (reads)
    and without the CRC: the register and value (0x06), the start and count
    (0x10), the exception code (exceptions).
    """

    address: int
    function: int
    data: bytes

    @property
    def is_exception(self) -> bool:
        """Whether the slave answered with a Modbus exception."""
        return bool(self.function & EXCEPTION_FLAG)

    @property
    def exception_code(self) -> int | None:
        """The exception code (1 illegal function, 2 illegal address, ...)."""
        return self.data[0] if self.is_exception else None

    @property
    def bits(self) -> tuple[bool, ...]:
        """The data of a coil or input read, bit 0 of the first byte first."""
        return tuple(bool(byte >> bit & 1) for byte in self.data for bit in range(8))

    @property
    def registers(self) -> tuple[int, ...]:
        """The data as big-endian u16 registers."""
        return unpack_run(self.data, 0, len(self.data) // 2)


def parse_response(frame: bytes) -> ModbusResponse:
    """Validate one complete response frame (length and CRC)."""
    length = response_length(frame)
    if not length or len(frame) != length:
        raise FrameError(f"not a Modbus response: {frame.hex()}")
    if not crc_ok(frame):
        raise ChecksumError("Modbus CRC mismatch")
    data = frame[3:-2] if frame[1] in READS else frame[2:-2]
    return ModbusResponse(frame[0], frame[1], bytes(data))


@dataclass(frozen=True, slots=True)
class ModbusRequest:
    """A validated read request: what a master asked of a slave."""

    address: int
    function: int
    start: int
    count: int

    def answered_by(self, reply: ModbusResponse) -> bool:
        """Whether ``reply`` (a read's data or an exception) answers this request."""
        if reply.address != self.address:
            return False
        if reply.function == self.function | EXCEPTION_FLAG:
            return True
        bits = self.function in BIT_READS
        size = (self.count + 7) // 8 if bits else 2 * self.count
        return reply.function == self.function and len(reply.data) == size


def parse_request(frame: bytes) -> ModbusRequest:
    """Validate one complete read request (length, function and CRC)."""
    if len(frame) != REQUEST_LENGTH or frame[1] not in READS:
        raise FrameError(f"not a Modbus read request: {frame.hex()}")
    if not crc_ok(frame):
        raise ChecksumError("Modbus CRC mismatch")
    return ModbusRequest(
        frame[0],
        frame[1],
        int.from_bytes(frame[2:4], "big"),
        int.from_bytes(frame[4:6], "big"),
    )


class ModbusRules(FrameRules):
    """Responses from ``addresses`` with one of ``functions``, CRC-checked.

    A frame from another address never becomes a candidate. A candidate that
    waits for bytes is dropped when a complete valid response follows it (a
    partial frame before the next one).
    """

    name = "Modbus"
    starts = b""

    def __init__(
        self, addresses: Iterable[int], functions: Iterable[int] = FUNCTIONS
    ) -> None:
        """Accept responses from these slave addresses and functions."""
        self.starts = bytes(sorted(set(addresses)))  # type: ignore[misc]
        self.functions = frozenset(functions)

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the response that would start at ``pos``."""
        return response_length(buf, pos, self.functions)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The CRC error of the candidate, or None if it is valid."""
        if not crc_ok(memoryview(buf)[pos : pos + length]):
            return ChecksumError("Modbus CRC mismatch")
        return None

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


class ModbusListenRules(ModbusRules):
    """Read requests and responses both: the frames of a line another master polls.

    A complete response whose CRC holds wins; else 8 bytes of a read whose CRC
    holds are a request. Which one a frame is, the caller tells by pairing it
    with what came before (an 8-byte frame can be either).
    """

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the response or request that would start at ``pos``."""
        available = len(buf) - pos
        reply = response_length(buf, pos, self.functions)
        if reply and reply <= available and crc_ok(buf[pos : pos + reply]):
            return reply
        if available < 2:
            return NEED_MORE
        request = buf[pos + 1] in READS
        whole = request and available >= REQUEST_LENGTH
        if whole and crc_ok(buf[pos : pos + REQUEST_LENGTH]):
            return REQUEST_LENGTH
        if request and available < REQUEST_LENGTH:
            return NEED_MORE
        if reply is NEED_MORE or reply:
            return reply
        return REQUEST_LENGTH if request else 0


class ModbusReassembler(Scanner):
    """The shared scanner with Modbus rules for some slave addresses.

    ``requests`` also accepts the read requests of a master (a listened line).
    """

    def __init__(
        self,
        addresses: Iterable[int],
        functions: Iterable[int] = FUNCTIONS,
        *,
        requests: bool = False,
    ) -> None:
        """Start with an empty buffer."""
        rules = ModbusListenRules if requests else ModbusRules
        super().__init__(rules(addresses, functions))
