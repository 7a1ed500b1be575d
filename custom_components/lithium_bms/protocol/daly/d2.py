"""Daly Modbus-over-BLE ("D2") and its P81 variant: frames and decoders.

Requests are Modbus RTU frames (the shared ``codecs.modbus``) to address 0xD2
(P81: 0x81, answered from 0x51) with a CRC-16/MODBUS appended low byte first.
Registers are big-endian u16. Decoders take the register values of a read, in
address order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..codecs import modbus
from ..codecs.modbus import crc16
from ..errors import ChecksumError, FrameError
from ..fields import unpack_run
from .frames import DalyStatus, decode_alarm_bytes

D2_ADDRESS = 0xD2
P81_ADDRESS = 0x81
P81_REPLY_ADDRESS = 0x51
READ = modbus.READ_HOLDING
WRITE = modbus.WRITE_SINGLE
EXCEPTION_FLAG = modbus.EXCEPTION_FLAG
MAX_BYTE_COUNT = 250
MAX_FRAME_LENGTH = 5 + MAX_BYTE_COUNT

STATUS_SHORT = 0x3E
STATUS_LONG = 0x50
MOS_BLOCK_START = 0x3E
MOS_BLOCK_COUNT = 9
SETTINGS_START = 0x80
SETTINGS_COUNT = 41
VERSION_START = 0xA9
VERSION_COUNT = 32
REG_CHARGE = 0xA5
REG_DISCHARGE = 0xA6
REG_BALANCER = 0xCF

P81_RT1 = (0x00, 0x40)
P81_RT2 = (0x41, 0x3E)
P81_VERSION = (0x178, 0x4A)

MAX_CELLS = 32
MAX_TEMPS = 8
P81_MAX_CELLS = 48
CURRENT_OFFSET = 30000
TEMP_OFFSET = 40
ABSENT = (0x0000, 0xFFFF)


def build_read(start: int, count: int, address: int = D2_ADDRESS) -> bytes:
    """A "read holding registers" request."""
    return modbus.read_request(address, start, count)


def build_write(register: int, value: int, address: int = D2_ADDRESS) -> bytes:
    """A "write single register" request (the BMS echoes it)."""
    return modbus.write_single_request(address, register, value)


def reply_address(address: int) -> int:
    """The address a reply to ``address`` comes from."""
    return P81_REPLY_ADDRESS if address == P81_ADDRESS else address


def frame_length(head: bytes) -> int | None:
    """Total length of the Modbus reply that starts ``head``.

    None while more bytes are needed; 0 when ``head`` cannot start a reply.
    """
    if len(head) < 2:
        return None
    function = head[1]
    if function == WRITE:
        return 8
    if function in (READ | EXCEPTION_FLAG, WRITE | EXCEPTION_FLAG):
        return 5
    if function != READ:
        return 0
    if len(head) < 3:
        return None
    count = head[2]
    if count % 2 or count > MAX_BYTE_COUNT:
        return 0
    return 5 + count


class ModbusReply(NamedTuple):
    """A validated reply: address, function and data (without the byte count)."""

    address: int
    function: int
    data: bytes

    @property
    def is_exception(self) -> bool:
        """Whether the BMS answered with a Modbus exception."""
        return bool(self.function & EXCEPTION_FLAG)

    @property
    def registers(self) -> tuple[int, ...]:
        """The data as big-endian u16 registers."""
        return unpack_run(self.data, 0, len(self.data) // 2)


def parse_reply(frame: bytes) -> ModbusReply:
    """Validate one complete reply frame (length and CRC)."""
    length = frame_length(frame[:3])
    if not length or len(frame) != length:
        raise FrameError(f"not a Daly Modbus reply: {frame.hex()}")
    if crc16(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
        raise ChecksumError("Daly Modbus CRC mismatch")
    data = frame[3:-2] if frame[1] == READ else frame[2:-2]
    return ModbusReply(frame[0], frame[1], bytes(data))


def _current(raw: int) -> float:
    return round((raw - CURRENT_OFFSET) * 0.1, 1)


def _temp(raw: int) -> float:
    return float(raw - TEMP_OFFSET)


def _cells(regs: Sequence[int], count: int, limit: int) -> tuple[float, ...]:
    if count > limit:
        raise FrameError(f"Daly cell count {count} exceeds {limit}")
    return tuple(v / 1000 for v in regs[:count])


def _temps(regs: Sequence[int], count: int) -> tuple[float, ...]:
    if count > MAX_TEMPS:
        raise FrameError(f"Daly temperature count {count} exceeds {MAX_TEMPS}")
    return tuple(_temp(v) for v in regs[:count])


def _bitmask_cells(*words: int) -> frozenset[int]:
    return frozenset(
        16 * w + bit + 1
        for w, word in enumerate(words)
        for bit in range(16)
        if word >> bit & 1
    )


def _optional_temp(raw: int) -> float | None:
    return None if raw in ABSENT else _temp(raw)


def decode_status(regs: Sequence[int]) -> DalyStatus:
    """Decode the status block read from register 0 (62 or more registers).

    With registers up to 0x42 (an 80-register read, or the 62-register block
    followed by the 0x3E x 9 MOS block), balancing cells, balance current and
    the MOSFET temperature are decoded too.
    """
    if len(regs) < STATUS_SHORT:
        raise FrameError(f"Daly status block has {len(regs)} registers")
    alarm_words = regs[0x3A:0x3E]
    raw_alarms = b"".join(w.to_bytes(2, "big") for w in alarm_words)
    legacy_order = b"".join(w.to_bytes(2, "little") for w in alarm_words)
    extended = len(regs) > 0x42
    return DalyStatus(
        voltage=round(regs[0x28] * 0.1, 1),
        current=_current(regs[0x29]),
        soc=round(regs[0x2A] * 0.1, 1),
        cell_voltages=_cells(regs, regs[0x31], MAX_CELLS),
        cell_count=regs[0x31],
        temperatures=_temps(regs[0x20:], regs[0x32]),
        state=regs[0x2F],
        remaining_capacity=round(regs[0x30] * 0.1, 1),
        cycles=regs[0x33],
        balancing=bool(regs[0x34]),
        charge_fet=bool(regs[0x35]),
        discharge_fet=bool(regs[0x36]),
        alarms=decode_alarm_bytes(legacy_order),
        protection_code=int.from_bytes(raw_alarms, "big"),
        balancing_cells=_bitmask_cells(regs[0x3E], regs[0x3F]) if extended else None,
        balance_current=(
            round((regs[0x40] - CURRENT_OFFSET) * 0.001, 3) if extended else None
        ),
        mosfet_temperature=_optional_temp(regs[0x42]) if extended else None,
    )


def decode_p81(rt1: Sequence[int], rt2: Sequence[int]) -> DalyStatus:
    """Decode the P81 RT1 (0x00 x 64) and RT2 (0x41 x 62) reads."""
    if len(rt1) < P81_RT1[1] or len(rt2) < P81_RT2[1]:
        raise FrameError("Daly P81 blocks too short")

    def reg(address: int) -> int:
        return rt2[address - P81_RT2[0]]

    return DalyStatus(
        voltage=round(rt1[0x38] * 0.1, 1),
        current=_current(rt1[0x39]),
        soc=round(rt1[0x3A] * 0.1, 1),
        cell_voltages=_cells(rt1, rt1[0x3C], P81_MAX_CELLS),
        cell_count=rt1[0x3C],
        temperatures=_temps(rt1[0x30:], rt1[0x3D]),
        state=reg(0x48),
        remaining_capacity=round(reg(0x4B) * 0.1, 1),
        cycles=reg(0x4C),
        balancing=bool(reg(0x4D)),
        balancing_cells=_bitmask_cells(reg(0x4F), reg(0x50), reg(0x51)),
        charge_fet=bool(reg(0x52)),
        discharge_fet=bool(reg(0x53)),
        heater=bool(reg(0x55)),
        mosfet_temperature=_optional_temp(reg(0x5A)),
    )


def decode_flag(value: int, what: str) -> bool:
    """A switch register: 0 off, 1 on (Daly's register list).

    Any other value comes from a frame that only passed its CRC, forged or
    spliced: :class:`FrameError`.
    """
    if value not in (0, 1):
        raise FrameError(f"Daly {what} register reads {value:#06x}, not 0 or 1")
    return bool(value)


class DalySettings(NamedTuple):
    """The parts of the settings block (0x80 x 41) that are used or checked."""

    rated_capacity: float
    cell_reference_voltage: float
    charge_overcurrent_warning: float
    charge_switch: bool
    discharge_switch: bool
    soc_setting: float
    mosfet_overtemperature_alarm: float


def decode_settings(regs: Sequence[int]) -> DalySettings:
    """Decode the D2 settings block (0x80 x 41).

    Not for P81: its 0x100 block has another layout and holds the parameter
    password (the "P81 0x100 block" test vector), so it is not read.
    """
    if len(regs) < SETTINGS_COUNT:
        raise FrameError(f"Daly settings block has {len(regs)} registers")

    def reg(address: int) -> int:
        return regs[address - SETTINGS_START]

    return DalySettings(
        rated_capacity=round(reg(0x80) * 0.1, 1),
        cell_reference_voltage=reg(0x81) / 1000,
        charge_overcurrent_warning=_current(reg(0x93)),
        charge_switch=decode_flag(reg(REG_CHARGE), "charge switch"),
        discharge_switch=decode_flag(reg(REG_DISCHARGE), "discharge switch"),
        soc_setting=round(reg(0xA7) * 0.1, 1),
        mosfet_overtemperature_alarm=_temp(reg(0xA8)),
    )


def _text(data: bytes) -> str | None:
    return data.split(b"\x00", 1)[0].decode("ascii", errors="replace").strip() or None


def decode_version(
    data: bytes, sw_length: int = 16, hw_length: int = 16
) -> tuple[str | None, str | None]:
    """Software and hardware version from the version read's data bytes.

    D2 (0xA9 x 32): 16 + 16 bytes. P81 (0x178 x 74): 28 + 14 bytes.
    """
    if len(data) < sw_length + hw_length:
        raise FrameError("Daly version block too short")
    return _text(data[:sw_length]), _text(data[sw_length : sw_length + hw_length])
