"""JK / Jikong BMS frames: commands, reassembly and decoders (pure functions).

Commands are 20 bytes: ``AA 55 90 EB <register> <length> <value u32 LE>``, zero
padding and a sum-of-bytes checksum. Replies are 300-byte frames ``55 AA EB 90
<type> <counter> …`` whose byte 299 is the sum of bytes 0..298; their values are
little-endian. The cell-info layout depends on the firmware: JK04 (floats),
JK02_24S and JK02_32S.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from .errors import ChecksumError, FrameError, ProtocolError, UnsupportedError
from .snapshot import Alarm, SwitchKind, Temperature, TemperatureKind

COMMAND_HEADER = b"\xaa\x55\x90\xeb"
FRAME_HEADER = b"\x55\xaa\xeb\x90"
COMMAND_LENGTH = 20
FRAME_LENGTH = 300
CRC_INDEX = 299
NOISE = b"AT\r\n"
DISCONNECTED_PROBE = -2000


class FrameType(IntEnum):
    """Byte 4 of a reply frame."""

    SETTINGS = 0x01
    CELL_INFO = 0x02
    DEVICE_INFO = 0x03
    LOGBOOK = 0x05


class Layout(StrEnum):
    """The frame layout a firmware uses (the protocol variant)."""

    JK04 = "JK04"
    JK02_24S = "JK02_24S"
    JK02_32S = "JK02_32S"


def checksum(data: bytes) -> int:
    """Sum of the bytes, modulo 256."""
    return sum(data) & 0xFF


def build_command(register: int, value: int = 0, length: int = 0) -> bytes:
    """A 20-byte command frame with zero padding."""
    body = (
        COMMAND_HEADER
        + bytes((register, length))
        + value.to_bytes(4, "little")
        + bytes(9)
    )
    return body + bytes((checksum(body),))


DEVICE_INFO_REQUEST = build_command(0x97)
SETTINGS_REQUEST = build_command(0x96)

# (register, value length) of each switch, per layout.
SWITCH_REGISTERS: dict[Layout, dict[SwitchKind, tuple[int, int]]] = {
    Layout.JK04: {SwitchKind.BALANCER: (0x6C, 1)},
    Layout.JK02_24S: {
        SwitchKind.CHARGE: (0x1D, 4),
        SwitchKind.DISCHARGE: (0x1E, 4),
        SwitchKind.BALANCER: (0x1F, 4),
    },
}
SWITCH_REGISTERS[Layout.JK02_32S] = SWITCH_REGISTERS[Layout.JK02_24S]


def build_switch(layout: Layout, kind: SwitchKind, on: bool) -> bytes:
    """The command that turns one switch on or off."""
    try:
        register, length = SWITCH_REGISTERS[layout][kind]
    except KeyError:
        raise UnsupportedError(f"JK {layout} has no {kind} switch") from None
    return build_command(register, int(on), length)


ERROR_BITS: dict[int, Alarm] = {
    0: Alarm.WIRE_RESISTANCE,
    1: Alarm.MOSFET_OVERTEMPERATURE,
    2: Alarm.CELL_COUNT_MISMATCH,
    5: Alarm.PACK_OVERVOLTAGE,
    6: Alarm.CHARGE_OVERCURRENT,
    7: Alarm.SHORT_CIRCUIT,
    8: Alarm.CHARGE_OVERTEMPERATURE,
    9: Alarm.CHARGE_UNDERTEMPERATURE,
    10: Alarm.COPROCESSOR_ERROR,
    11: Alarm.CELL_UNDERVOLTAGE,
    12: Alarm.PACK_UNDERVOLTAGE,
    13: Alarm.DISCHARGE_OVERCURRENT,
    14: Alarm.SHORT_CIRCUIT,
    15: Alarm.DISCHARGE_OVERTEMPERATURE,
    16: Alarm.MOSFET_FAULT,
    17: Alarm.MOSFET_FAULT,
    22: Alarm.TEMPERATURE_SENSOR_FAULT,
    25: Alarm.DISCHARGE_OVERCURRENT,
    26: Alarm.DISCHARGE_OVERCURRENT,
    27: Alarm.DISCHARGE_UNDERTEMPERATURE,
}


def decode_alarms(errors: int) -> frozenset[Alarm]:
    """Named alarms of an error bitmap (bit 4 "full" and bit 19 are not alarms)."""
    return frozenset(a for bit, a in ERROR_BITS.items() if errors >> bit & 1)


def supported_alarms(layout: Layout) -> frozenset[Alarm]:
    """The alarms a layout's error bitmap can report."""
    if layout is Layout.JK04:
        return frozenset()
    width = 32 if layout is Layout.JK02_32S else 16
    return frozenset(a for bit, a in ERROR_BITS.items() if bit < width)


def check_frame(frame: bytes) -> FrameType:
    """Validate header, length, checksum and type; return the type."""
    if len(frame) < FRAME_LENGTH or not frame.startswith(FRAME_HEADER):
        raise FrameError("not a 300-byte JK frame")
    if checksum(frame[:CRC_INDEX]) != frame[CRC_INDEX]:
        raise ChecksumError("JK frame checksum mismatch")
    try:
        return FrameType(frame[4])
    except ValueError:
        raise FrameError(f"unknown JK frame type {frame[4]:#04x}") from None


def _expect(frame: bytes, kind: FrameType) -> None:
    if check_frame(frame) is not kind:
        raise FrameError(f"JK frame type {frame[4]:#04x} is not {kind.name}")


def _strip_noise(data: bytes) -> bytes:
    """Drop ``AT CR LF`` and whole command-header frames (ack, echo) in front."""
    while True:
        if data.startswith(NOISE):
            data = data[len(NOISE) :]
        elif (
            data.startswith(COMMAND_HEADER)
            and len(data) >= COMMAND_LENGTH
            and checksum(data[: COMMAND_LENGTH - 1]) == data[COMMAND_LENGTH - 1]
        ):
            data = data[COMMAND_LENGTH:]
        else:
            return data


def _header_prefix(buf: bytearray) -> int:
    """Length of the longest tail of ``buf`` that could begin a header."""
    for size in range(min(len(FRAME_HEADER) - 1, len(buf)), 0, -1):
        if FRAME_HEADER.startswith(buf[-size:]):
            return size
    return 0


class JkReassembler:
    """Rebuilds 300-byte frames from notifications, by header, length and CRC.

    A notification that starts with ``AT CR LF`` noise or a command-header frame
    (the C8 ack) loses that prefix, even in the middle of a frame. Bytes before
    a header are dropped. A candidate that fails validation is reported and the
    search resumes at the next header, so a false header never hides a frame.
    """

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self._buf = bytearray()

    def reset(self) -> None:
        """Drop any partial frame."""
        self._buf.clear()

    def feed(self, data: bytes) -> tuple[list[bytes], list[ProtocolError]]:
        """Add bytes; return complete valid frames and the errors met."""
        buf = self._buf
        buf += _strip_noise(data)
        frames: list[bytes] = []
        errors: list[ProtocolError] = []
        while True:
            start = buf.find(FRAME_HEADER)
            if start < 0:
                del buf[: len(buf) - _header_prefix(buf)]
                break
            del buf[:start]
            if len(buf) < FRAME_LENGTH:
                break
            candidate = bytes(buf[:FRAME_LENGTH])
            try:
                check_frame(candidate)
            except ProtocolError as err:
                errors.append(err)
                del buf[:1]
                continue
            frames.append(candidate)
            del buf[:FRAME_LENGTH]
        return frames, errors


def _version(sw_version: str) -> tuple[int, str]:
    """Major number and minor digits of a version such as ``19.27``."""
    major, _, rest = sw_version.strip().partition(".")
    minor = "".join(c for c in rest[:2] if c.isdigit())
    if not major.isdigit():
        raise FrameError(f"unreadable JK software version {sw_version!r}")
    return int(major), minor


def layout_for_version(sw_version: str) -> Layout:
    """The layout a software version speaks (JK04 < 6 <= JK02_24S < 11)."""
    major, _ = _version(sw_version)
    if major < 6:
        return Layout.JK04
    if major < 11:
        return Layout.JK02_24S
    return Layout.JK02_32S


def has_extra_probes(sw_version: str) -> bool:
    """Whether a 32S firmware reports the extra probes (v14 and later)."""
    return _version(sw_version)[0] >= 14


def needs_pairing(sw_version: str) -> bool:
    """Whether the firmware needs BLE bonding (19.3x and later)."""
    major, minor = _version(sw_version)
    return major > 19 or (major == 19 and (minor or "0").ljust(2, "0") >= "30")


def _text(frame: bytes, start: int, size: int) -> str:
    raw = frame[start : start + size].split(b"\x00", 1)[0]
    return raw.decode("ascii", errors="replace").strip()


@dataclass(frozen=True, slots=True)
class JkDeviceInfo:
    """Frame type 0x03."""

    vendor: str
    hw_version: str
    sw_version: str
    uptime: int
    power_on_count: int
    device_name: str
    passcode: str
    manufacturing_date: str
    serial_number: str
    setup_passcode: str


def decode_device_info(frame: bytes) -> JkDeviceInfo:
    """Decode a device-info frame."""
    _expect(frame, FrameType.DEVICE_INFO)
    uptime, power_on = struct.unpack_from("<II", frame, 38)
    return JkDeviceInfo(
        vendor=_text(frame, 6, 16),
        hw_version=_text(frame, 22, 8),
        sw_version=_text(frame, 30, 8),
        uptime=uptime,
        power_on_count=power_on,
        device_name=_text(frame, 46, 16),
        passcode=_text(frame, 62, 16),
        manufacturing_date=_text(frame, 78, 8),
        serial_number=_text(frame, 86, 16),
        setup_passcode=_text(frame, 118, 16),
    )


@dataclass(frozen=True, slots=True)
class JkSettings:
    """Frame type 0x01; JK04 reports only the cell count and the balancer."""

    cell_count: int
    balancer_switch: bool
    charge_switch: bool | None = None
    discharge_switch: bool | None = None
    nominal_capacity: float | None = None
    cell_uvp: float | None = None
    cell_uvp_recovery: float | None = None
    cell_ovp: float | None = None
    cell_ovp_recovery: float | None = None
    max_charge_current: float | None = None
    max_discharge_current: float | None = None
    balance_start_voltage: float | None = None
    controls: int | None = None

    def switch(self, kind: SwitchKind) -> bool | None:
        """The user switch of one kind, if the layout has it."""
        if kind is SwitchKind.CHARGE:
            return self.charge_switch
        if kind is SwitchKind.DISCHARGE:
            return self.discharge_switch
        return self.balancer_switch


def decode_settings(frame: bytes, layout: Layout) -> JkSettings:
    """Decode a settings frame."""
    _expect(frame, FrameType.SETTINGS)
    if layout is Layout.JK04:
        return JkSettings(cell_count=frame[34], balancer_switch=bool(frame[114]))

    def milli(offset: int) -> float:
        return round(int.from_bytes(frame[offset : offset + 4], "little") / 1000, 3)

    return JkSettings(
        cell_count=frame[114],
        balancer_switch=bool(frame[126]),
        charge_switch=bool(frame[118]),
        discharge_switch=bool(frame[122]),
        nominal_capacity=milli(130),
        cell_uvp=milli(10),
        cell_uvp_recovery=milli(14),
        cell_ovp=milli(18),
        cell_ovp_recovery=milli(22),
        max_charge_current=milli(50),
        max_discharge_current=milli(62),
        balance_start_voltage=milli(138),
        controls=(
            int.from_bytes(frame[282:284], "little")
            if layout is Layout.JK02_32S
            else None
        ),
    )


@dataclass(frozen=True, slots=True)
class JkCellInfo:
    """Frame type 0x02. JK04 (a balancer) has no current, SOC or probes."""

    cell_voltages: tuple[float, ...]
    cell_resistances: tuple[float, ...]
    voltage: float
    balancing: bool
    balance_current: float
    runtime: int
    current: float | None = None
    temperatures: tuple[Temperature, ...] = ()
    soc: int | None = None
    soh: int | None = None
    remaining_capacity: float | None = None
    full_capacity: float | None = None
    cycles: int | None = None
    total_cycle_capacity: float | None = None
    charge_fet: bool | None = None
    discharge_fet: bool | None = None
    heater: bool | None = None
    errors: int | None = None
    battery_type: int | None = None
    charge_status: int | None = None


def decode_cell_info(
    frame: bytes, layout: Layout, *, extra_probes: bool = False
) -> JkCellInfo:
    """Decode a cell-info frame of a layout.

    ``extra_probes`` adds the three probes of 32S firmware v14 and later.
    """
    _expect(frame, FrameType.CELL_INFO)
    if layout is Layout.JK04:
        return _decode_jk04(frame)
    return _decode_jk02(frame, wide=layout is Layout.JK02_32S, extras=extra_probes)


def _probe(
    frame: bytes, offset: int, present: bool, kind: TemperatureKind
) -> Temperature:
    raw = int.from_bytes(frame[offset : offset + 2], "little", signed=True)
    if not present or raw == DISCONNECTED_PROBE:
        return Temperature(kind, None)
    return Temperature(kind, round(raw / 10, 1))


def _temperatures(
    frame: bytes, wide: bool, extras: bool, presence: int
) -> tuple[Temperature, ...]:
    """Probes in the order T1, T2, extra probes, MOSFET.

    The presence byte (bit set = probe connected) is ignored when it is zero,
    which older firmware sends.
    """
    if not presence:
        presence = 0xFF

    def bit(index: int) -> bool:
        return bool(presence >> index & 1)

    cell, mosfet = TemperatureKind.CELL, TemperatureKind.MOSFET
    if not wide:
        return (
            _probe(frame, 130, bit(0), cell),
            _probe(frame, 132, bit(1), cell),
            _probe(frame, 134, bit(2), mosfet),
        )
    probes = [_probe(frame, 162, bit(1), cell), _probe(frame, 164, bit(2), cell)]
    if extras:
        probes += [_probe(frame, 254 + 2 * i, bit(3 + i), cell) for i in range(3)]
    probes.append(_probe(frame, 144, bit(0), mosfet))
    return tuple(probes)


def _decode_jk02(frame: bytes, *, wide: bool, extras: bool) -> JkCellInfo:
    o = 32 if wide else 0
    h = o // 2
    slots = 32 if wide else 24

    def u16(offset: int) -> int:
        return int.from_bytes(frame[offset : offset + 2], "little")

    def u32(offset: int) -> int:
        return int.from_bytes(frame[offset : offset + 4], "little")

    mask = u32(54 + h)
    if mask:
        indices = [i for i in range(slots) if mask >> i & 1]
    else:
        raw = [u16(6 + 2 * i) for i in range(slots)]
        indices = list(range(max((i + 1 for i, v in enumerate(raw) if v), default=0)))
    current = struct.unpack_from("<i", frame, 126 + o)[0]
    errors = u32(166) if wide else u16(136)
    balance_current = struct.unpack_from("<h", frame, 138 + o)[0]
    return JkCellInfo(
        cell_voltages=tuple(round(u16(6 + 2 * i) / 1000, 3) for i in indices),
        cell_resistances=tuple(round(u16(64 + h + 2 * i) / 1000, 3) for i in indices),
        voltage=round(u32(118 + o) / 1000, 3),
        current=round(current / 1000, 3),
        temperatures=_temperatures(frame, wide, extras, frame[182 + o]),
        errors=errors,
        balance_current=round(balance_current / 1000, 3),
        balancing=frame[140 + o] != 0,
        soc=frame[141 + o],
        remaining_capacity=round(u32(142 + o) / 1000, 3),
        full_capacity=round(u32(146 + o) / 1000, 3),
        cycles=u32(150 + o),
        total_cycle_capacity=round(u32(154 + o) / 1000, 3),
        soh=frame[158 + o],
        runtime=u32(162 + o),
        charge_fet=frame[166 + o] != 0,
        discharge_fet=frame[167 + o] != 0,
        heater=frame[183 + o] != 0 if wide else None,
        battery_type=frame[275] if wide else None,
        charge_status=frame[280] if wide else None,
    )


def _decode_jk04(frame: bytes) -> JkCellInfo:
    def real(offset: int) -> float:
        value: float = struct.unpack_from("<f", frame, offset)[0]
        if not math.isfinite(value):
            raise FrameError(f"JK04 value at byte {offset} is not a number")
        return value

    raw = [real(6 + 4 * i) for i in range(24)]
    count = max((i + 1 for i, v in enumerate(raw) if v), default=0)
    return JkCellInfo(
        cell_voltages=tuple(round(v, 4) for v in raw[:count]),
        cell_resistances=tuple(round(real(102 + 4 * i), 4) for i in range(count)),
        voltage=round(sum(raw[:count]), 3),
        balancing=frame[220] != 0,
        balance_current=round(real(222), 3),
        runtime=int.from_bytes(frame[286:290], "little"),
    )
