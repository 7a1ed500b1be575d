"""JK / Jikong BMS frames: commands, reassembly and decoders (pure functions).

Commands are 20 bytes: ``AA 55 90 EB <register> <length> <value u32 LE>``, zero
padding and a sum-of-bytes checksum. Replies are 300-byte frames ``55 AA EB 90
<type> <counter> …`` whose byte 299 is the sum of bytes 0..298; their values are
little-endian. The cell-info layout depends on the firmware: JK04 (floats),
JK02_24S and JK02_32S.
"""

from __future__ import annotations

import math
import re
import struct
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import ClassVar, NamedTuple

from ..errors import ChecksumError, FrameError, UnsupportedError
from ..snapshot import Alarm, SwitchKind, Temperature, TemperatureKind

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


# Byte 4 to frame type, without an enum lookup per frame.
_FRAME_TYPES: dict[int, FrameType] = {kind.value: kind for kind in FrameType}


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


def _alarms_below(width: int) -> frozenset[Alarm]:
    """The alarms an error bitmap of ``width`` bits can report."""
    return frozenset(a for bit, a in ERROR_BITS.items() if bit < width)


def check_frame(frame: bytes) -> FrameType:
    """Validate header, exact length, checksum and type; return the type."""
    if len(frame) != FRAME_LENGTH or not frame.startswith(FRAME_HEADER):
        raise FrameError("not a 300-byte JK frame")
    if checksum(frame[:CRC_INDEX]) != frame[CRC_INDEX]:
        raise ChecksumError("JK frame checksum mismatch")
    kind = _FRAME_TYPES.get(frame[4])
    if kind is None:
        raise FrameError(f"unknown JK frame type {frame[4]:#04x}")
    return kind


def _expect(frame: bytes, kind: FrameType) -> None:
    if check_frame(frame) is not kind:
        raise FrameError(f"JK frame type {frame[4]:#04x} is not {kind.name}")


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


# Active balancers without a BMS (no "<n>P" current rating in the model name)
# speak JK04 even on 8.x software: JK-B5A24S sw 8.0.3M (syssi/esphome-jk-bms
# README, issue #213, capture docs/b5a24s/), JK-B2A16S sw 3.3.0, JK-B1A24S sw
# 3.0.7 (fl4p/batmon-ha#170). BMS models on 8.x speak JK02_24S: JK-B2A24S20P sw
# 8.1.2H and 8.20G (README), JK-BD6A24S10P sw 8.0.6G (capture
# docs/btsnoop_hci_jk-bd6a24s10p_hw8x_sw806g.log).
_BALANCER_MODEL = re.compile(r"JK[-_]B\d+A\d+S", re.IGNORECASE)


def guess_layout(model: str, sw_version: str) -> Layout:
    """The layout the model and software version suggest, before any frame."""
    layout = layout_for_version(sw_version)
    if layout is Layout.JK02_24S and _BALANCER_MODEL.fullmatch(model.strip()):
        return Layout.JK04
    return layout


def has_extra_probes(sw_version: str) -> bool:
    """Whether a 32S firmware reports the extra probes (v14 and later)."""
    return _version(sw_version)[0] >= 14


def needs_pairing(sw_version: str) -> bool:
    """Whether the firmware needs BLE bonding (19.3x and later)."""
    major, minor = _version(sw_version)
    return major > 19 or (major == 19 and (minor or "0").ljust(2, "0") >= "30")


def _require(condition: bool, what: str) -> None:
    """Refuse a frame whose own fields disagree (a splice or garbage)."""
    if not condition:
        raise FrameError(f"inconsistent JK frame: {what}")


def _u16(frame: bytes, offset: int) -> int:
    return int.from_bytes(frame[offset : offset + 2], "little")


def _u32(frame: bytes, offset: int) -> int:
    return int.from_bytes(frame[offset : offset + 4], "little")


def _text(frame: bytes, start: int, size: int) -> str:
    raw = frame[start : start + size].split(b"\x00", 1)[0]
    return raw.decode("ascii", errors="replace").strip()


def _check_label(frame: bytes, start: int, size: int, what: str) -> None:
    """A factory string (model, versions) is printable ASCII up to its NUL."""
    raw = frame[start : start + size].split(b"\x00", 1)[0]
    _require(bool(raw) and all(0x20 <= c < 0x7F for c in raw), what)


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
    _check_label(frame, 6, 16, "model")
    _check_label(frame, 22, 8, "hardware version")
    _check_label(frame, 30, 8, "software version")
    _require(frame[30] in b"0123456789", "software version")
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


class JkSettings(NamedTuple):
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
    return CODECS[layout].decode_settings(frame)


def _check_jk04_settings(frame: bytes) -> None:
    _require(1 <= frame[34] <= 24, "cell count")
    _require(frame[114] <= 1, "balancer switch")


def _check_jk02_settings(frame: bytes, wide: bool) -> None:
    """Cell count in range; switches are booleans in otherwise empty words.

    The cell count and the switches are 32-bit words of which only the first
    byte is used (syssi/esphome-jk-bms docs/protocol-design-ble.md, settings
    114-129); every public capture has the other three bytes zero.
    """
    _require(1 <= frame[114] <= (32 if wide else 24), "cell count")
    for offset in (114, 118, 122, 126):
        _require(not any(frame[offset + 1 : offset + 4]), f"word at {offset}")
    for offset in (118, 122, 126):
        _require(frame[offset] <= 1, f"switch at {offset}")


def _decode_jk02_settings(frame: bytes, wide: bool) -> JkSettings:
    _check_jk02_settings(frame, wide)

    def milli(offset: int) -> float:
        return round(_u32(frame, offset) / 1000, 3)

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
        controls=_u16(frame, 282) if wide else None,
    )


class JkCellInfo(NamedTuple):
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
    reported_cell_count: int | None = None


# The cell voltage and resistance slots of a JK02 frame (mV, mOhm), 24 or 32.
_SLOTS = {False: struct.Struct("<24H"), True: struct.Struct("<32H")}


def _jk02_slots(frame: bytes, wide: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Every cell voltage slot and every cell resistance slot, raw."""
    slots = _SLOTS[wide]
    return slots.unpack_from(frame, 6), slots.unpack_from(
        frame, 64 + (16 if wide else 0)
    )


def _jk02_cells(frame: bytes, wide: bool) -> tuple[int, list[int]]:
    """The enabled-cells mask and the indices of the cells it names.

    A zero mask (not seen in captures) falls back to the cells up to the last
    non-zero one.
    """
    h, slots = (16, 32) if wide else (0, 24)
    mask = _u32(frame, 54 + h)
    if mask:
        return mask, [i for i in range(slots) if mask >> i & 1]
    raw = _SLOTS[wide].unpack_from(frame, 6)
    return 0, list(range(max((i + 1 for i, v in enumerate(raw) if v), default=0)))


def _check_jk02(frame: bytes, wide: bool) -> None:
    """The frame's own fields agree with each other.

    Checked against every public JK02 capture (syssi/esphome-jk-bms docs/btsnoop*
    logs and test frames; batmon-ha and aiobmsble test frames): cells and
    resistances outside the mask read 0, the pack voltage is the sum of the
    cells (captures: within 20 mV; allowed: 2 %, at least 0.1 V), so are the
    average and the delta (captures: 2 and 5 mV; allowed: 5 and 10 mV), the
    min/max indices name a cell, the MOSFET states (and the 32S heater) are 0 or 1, the
    balancing action is at most 2 and SOC and SOH at most 100 %.
    """
    o, h, slots = (32, 16, 32) if wide else (0, 0, 24)
    mask, indices = _jk02_cells(frame, wide)
    _require(bool(indices), "no cells")
    voltages, resistances = _jk02_slots(frame, wide)
    cells = [voltages[i] for i in indices]
    if mask:
        for i in set(range(slots)) - set(indices):
            _require(not voltages[i], f"cell {i + 1} outside the mask")
            _require(not resistances[i], f"resistance {i + 1}")
    total = sum(cells)
    _require(abs(_u32(frame, 118 + o) - total) <= max(100, total // 50), "pack voltage")
    _require(abs(_u16(frame, 58 + h) - total / len(cells)) <= 5, "average cell")
    _require(abs(_u16(frame, 60 + h) - (max(cells) - min(cells))) <= 10, "cell delta")
    _require(frame[62 + h] < len(cells) and frame[63 + h] < len(cells), "cell index")
    _require(frame[166 + o] <= 1 and frame[167 + o] <= 1, "MOSFET state")
    _require(frame[140 + o] <= 2, "balancing action")
    _require(frame[141 + o] <= 100 and frame[158 + o] <= 100, "SOC or SOH")
    _require(not wide or frame[183 + o] <= 1, "heater state")


def _jk04_floats(frame: bytes, offset: int, count: int) -> list[float]:
    values = list(struct.unpack_from(f"<{count}f", frame, offset))
    _require(all(math.isfinite(v) for v in values), f"JK04 number at {offset}")
    return values


def _check_jk04(frame: bytes) -> None:
    """Cells between 0.5 and 5 V up to the last one, their mean at byte 202.

    Checked against the JK04 captures (syssi/esphome-jk-bms docs/b5a24s/,
    docs/btsnoop_hci_jk-b2a16s_hw30_sw330*.log, frames_jk04*.h).
    """
    raw = _jk04_floats(frame, 6, 24)
    count = max((i + 1 for i, v in enumerate(raw) if v), default=0)
    _require(count > 0, "no cells")
    _require(all(0.5 <= v <= 5.0 for v in raw[:count]), "cell voltage")
    mean = sum(raw[:count]) / count
    _require(abs(_jk04_floats(frame, 202, 1)[0] - mean) <= 0.02, "average cell")
    _require(frame[220] <= 2, "balancing action")


def check_cell_info(frame: bytes, layout: Layout) -> None:
    """Raise FrameError unless a cell-info frame is consistent in a layout."""
    _expect(frame, FrameType.CELL_INFO)
    CODECS[layout].check_cells(frame)


def fitting_layouts(frame: bytes) -> tuple[Layout, ...]:
    """The layouts in which a cell-info frame decodes consistently.

    In every public capture exactly one layout fits: JK04 floats read as JK02
    give cells of 16 V and more, and the 24S / 32S pack voltages sit where the
    other layout keeps resistances or cycle counts.
    """
    fitting: list[Layout] = []
    for layout in Layout:
        try:
            check_cell_info(frame, layout)
        except FrameError:
            continue
        fitting.append(layout)
    return tuple(fitting)


def decode_cell_info(
    frame: bytes, layout: Layout, *, extra_probes: bool = False
) -> JkCellInfo:
    """Decode a cell-info frame of a layout.

    ``extra_probes`` adds the probes of 32S firmware v14 and later.
    """
    check_cell_info(frame, layout)
    return CODECS[layout].decode_cells(frame, extra_probes)


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
    """Cell probes in BMS order, then the MOSFET probe(s).

    The presence byte (bit set = probe connected) is ignored when it is zero,
    which older firmware sends.

    32S byte 254 is a second MOSFET probe, not a third cell probe. The public
    decoders disagree: syssi/esphome-jk-bms calls it "temperature sensor 5",
    patman15/aiobmsble (bms/jikong_bms.py, _temp_pos) a MOSFET sensor, and
    fl4p/batmon-ha (bmslib/models/jikong.py) reads only 256/258 as T3/T4. The
    data decide: in every 32S capture of syssi/esphome-jk-bms (firmware 11.288H,
    14.20, 15.41 and the v11-v19 test frames, 1,650 frames) byte 254 equals
    the MOSFET temperature at 144. The vendor app agrees: it shows the probes
    of a JK-PB as T1, T2, T4 and T5 and no T3, and users who warmed each probe
    found "T3" to be the MOSFET reading (mr-manuel/venus-os_dbus-serialbattery
    #75, jean-luc1203/jkbms-rs485-addon#91, Pho3niX90/jk-bms-card#22). Presence
    bits after aiobmsble: 0 MOSFET, 1 T1, 2 T2, 3 byte 254, 4 byte 256, 5 byte 258.
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
        probes += [_probe(frame, 256, bit(4), cell), _probe(frame, 258, bit(5), cell)]
    probes.append(_probe(frame, 144, bit(0), mosfet))
    if extras:
        probes.append(_probe(frame, 254, bit(3), mosfet))
    return tuple(probes)


def _decode_jk02(frame: bytes, *, wide: bool, extras: bool) -> JkCellInfo:
    o = 32 if wide else 0
    mask, indices = _jk02_cells(frame, wide)
    voltages, resistances = _jk02_slots(frame, wide)
    current = struct.unpack_from("<i", frame, 126 + o)[0]
    errors = _u32(frame, 166) if wide else _u16(frame, 136)
    balance_current = struct.unpack_from("<h", frame, 138 + o)[0]
    return JkCellInfo(
        cell_voltages=tuple(round(voltages[i] / 1000, 3) for i in indices),
        cell_resistances=tuple(round(resistances[i] / 1000, 3) for i in indices),
        voltage=round(_u32(frame, 118 + o) / 1000, 3),
        current=round(current / 1000, 3),
        temperatures=_temperatures(frame, wide, extras, frame[182 + o]),
        errors=errors,
        balance_current=round(balance_current / 1000, 3),
        balancing=frame[140 + o] != 0,
        soc=frame[141 + o],
        remaining_capacity=round(_u32(frame, 142 + o) / 1000, 3),
        full_capacity=round(_u32(frame, 146 + o) / 1000, 3),
        cycles=_u32(frame, 150 + o),
        total_cycle_capacity=round(_u32(frame, 154 + o) / 1000, 3),
        soh=frame[158 + o],
        runtime=_u32(frame, 162 + o),
        charge_fet=frame[166 + o] != 0,
        discharge_fet=frame[167 + o] != 0,
        heater=frame[183 + o] != 0 if wide else None,
        battery_type=frame[275] if wide else None,
        charge_status=frame[280] if wide else None,
        reported_cell_count=mask.bit_count() if mask else None,
    )


def _decode_jk04(frame: bytes) -> JkCellInfo:
    raw = _jk04_floats(frame, 6, 24)
    count = max((i + 1 for i, v in enumerate(raw) if v), default=0)
    return JkCellInfo(
        cell_voltages=tuple(round(v, 4) for v in raw[:count]),
        cell_resistances=tuple(round(v, 4) for v in _jk04_floats(frame, 102, count)),
        voltage=round(sum(raw[:count]), 3),
        balancing=frame[220] != 0,
        balance_current=round(_jk04_floats(frame, 222, 1)[0], 3),
        runtime=_u32(frame, 286),
    )


class LayoutCodec(ABC):
    """What differs between the frame layouts: one object per layout."""

    layout: ClassVar[Layout]
    # (register, value length) of each switch the layout has.
    switch_registers: ClassVar[Mapping[SwitchKind, tuple[int, int]]]
    # The alarms its error bitmap can report.
    alarms: ClassVar[frozenset[Alarm]]

    @abstractmethod
    def check_cells(self, frame: bytes) -> None:
        """Raise FrameError unless a cell-info frame's fields agree."""

    @abstractmethod
    def decode_cells(self, frame: bytes, extra_probes: bool) -> JkCellInfo:
        """Decode a checked cell-info frame."""

    @abstractmethod
    def decode_settings(self, frame: bytes) -> JkSettings:
        """Check and decode a settings frame."""

    def extra_probes(self, sw_version: str) -> bool:
        """Whether the firmware reports the extra probes."""
        return False


class Jk04(LayoutCodec):
    """Old balancers: IEEE 754 floats, only the balancer switch, no alarms."""

    layout = Layout.JK04
    switch_registers: ClassVar[Mapping[SwitchKind, tuple[int, int]]] = {
        SwitchKind.BALANCER: (0x6C, 1)
    }
    alarms = frozenset()

    def check_cells(self, frame: bytes) -> None:
        """Cells and their mean (:func:`_check_jk04`)."""
        _check_jk04(frame)

    def decode_cells(self, frame: bytes, extra_probes: bool) -> JkCellInfo:
        """Cells, resistances and the balancer."""
        return _decode_jk04(frame)

    def decode_settings(self, frame: bytes) -> JkSettings:
        """The cell count and the balancer switch."""
        _check_jk04_settings(frame)
        return JkSettings(cell_count=frame[34], balancer_switch=bool(frame[114]))


class Jk02(LayoutCodec):
    """JK02 for up to 24 cells: 16-bit error bitmap."""

    layout = Layout.JK02_24S
    wide = False
    switch_registers: ClassVar[Mapping[SwitchKind, tuple[int, int]]] = {
        SwitchKind.CHARGE: (0x1D, 4),
        SwitchKind.DISCHARGE: (0x1E, 4),
        SwitchKind.BALANCER: (0x1F, 4),
    }
    alarms = _alarms_below(16)

    def check_cells(self, frame: bytes) -> None:
        """The frame's own fields agree (:func:`_check_jk02`)."""
        _check_jk02(frame, self.wide)

    def decode_cells(self, frame: bytes, extra_probes: bool) -> JkCellInfo:
        """Every value of the frame."""
        return _decode_jk02(frame, wide=self.wide, extras=extra_probes)

    def decode_settings(self, frame: bytes) -> JkSettings:
        """Switches, capacity and protection thresholds."""
        return _decode_jk02_settings(frame, self.wide)


class Jk02Wide(Jk02):
    """JK02 for up to 32 cells: fields shifted, 32-bit error bitmap."""

    layout = Layout.JK02_32S
    wide = True
    alarms = _alarms_below(32)

    def extra_probes(self, sw_version: str) -> bool:
        """Firmware v14 and later reports two more probes."""
        return has_extra_probes(sw_version)


CODECS: dict[Layout, LayoutCodec] = {
    codec.layout: codec for codec in (Jk04(), Jk02(), Jk02Wide())
}


def supported_alarms(layout: Layout) -> frozenset[Alarm]:
    """The alarms a layout's error bitmap can report."""
    return CODECS[layout].alarms


def build_switch(layout: Layout, kind: SwitchKind, on: bool) -> bytes:
    """The command that turns one switch on or off."""
    try:
        register, length = CODECS[layout].switch_registers[kind]
    except KeyError:
        raise UnsupportedError(f"JK {layout} has no {kind} switch") from None
    return build_command(register, int(on), length)
