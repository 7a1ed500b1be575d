"""ANT BMS frames (legacy protocol): one fixed 140-byte status reply.

The request is ``DB DB 00 00 00 00``; the reply starts ``AA 55 AA FF``, holds
big-endian numbers at fixed offsets and ends with the 16-bit sum of bytes
4-137 (high byte first). A write is ``A5 A5 <register> <value:2> <sum>``, the
sum being the low byte of the register and value bytes. Sources, cited below
as [A] to [D]:

- [A] syssi/esphome-ant-bms ``components/ant_bms_old_ble/ant_bms_old_ble.cpp``,
  ``ant_bms_old_ble.h``, ``__init__.py`` and ``switch/__init__.py``
  @ bf7c64f7a4c30a77dc41ee2f60db2b43fa7b21ab
- [B] patman15/aiobmsble ``aiobmsble/bms/ant_leg_bms.py``
  @ b0567331025033d33729385fa89a1198275d6486
- [C] preussal/ant_bms ``get_ant-BMS.py``
  @ 104323c4f32f9ab28b85dd0726fcb0b64f78337b (what each probe measures)
- [D] Louisvdw/dbus-serialbattery ``etc/dbus-serialbattery/bms/ant.py``
  @ c226cc114df402464d463390e8dda9b785397ffe
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields, unpack_run
from ..snapshot import Alarm, SwitchKind

HEAD = b"\xaa\x55\xaa\xff"
LENGTH = 140
STATUS_REQUEST = b"\xdb\xdb\x00\x00\x00\x00"  # [A][B][D]
WRITE = b"\xa5\xa5"
MAX_CELLS = 32  # 32 cell slots at bytes 6-69 [A]
CELLS_AT = 6
COUNT_AT = 123
# The registers a write sets [A]: the password in four pairs of characters
# (F1-F4), the MOSFETs (value 1 on, 0 off), and FF, which applies a write.
PASSWORD_REGISTERS = (0xF1, 0xF2, 0xF3, 0xF4)
REGISTERS = {SwitchKind.DISCHARGE: 0xF9, SwitchKind.CHARGE: 0xFA}
APPLY = 0xFF
# The password the ESPHome component sends unless configured otherwise [A].
DEFAULT_PASSWORD = "12345678"  # noqa: S105 (the factory default)
STATUS_FIELDS = (
    Field("voltage", 4, 2, scale=0.1, decimals=1),
    # Positive while discharging: [B] and [D] negate it, and the remaining
    # capacity falls from one captured 14S frame of [A] to the next.
    Field("current", 70, 4, signed=True, scale=0.1, decimals=1),
    Field("soc", 74, 1),
    # The capacity setting (0 on some boards [B]), what remains, and the
    # charge counted since the start, in µAh, µAh and mAh [A].
    Field("full", 75, 4, scale=1e-6, decimals=6),
    Field("remaining", 79, 4, scale=1e-6, decimals=6),
    Field("total", 83, 4, scale=1e-3, decimals=3),
    Field("charge_status", 103, 1),
    Field("discharge_status", 104, 1),
    Field("balancer_status", 105, 1),
    # The numbers of the highest and lowest cell (bytes 115, 118) are not
    # read: a capture in esphome-ant-bms issue #1 names cell 16 of 8.
    Field("max_cell", 116, 2),
    Field("min_cell", 119, 2),
    Field("average_cell", 121, 2),
    Field("balanced_cells", 132, 4),
)
_SCALED = Layout(*(f for f in STATUS_FIELDS if f.decimals is not None))
_INTS = Layout(*(f for f in STATUS_FIELDS if f.decimals is None))
# Six probes of 2 bytes from byte 91 [A]: the power stage (MOSFETs), the
# balancer, then four cell probes ([C]; "t_fet, t_bal, temp1-4" in
# esphome-ant-bms issue #87). An unconnected probe reads -40 °C (the two
# spare probes of the captures in esphome-ant-bms issues #1 and #68).
PROBES_AT = 91
CELL_PROBES = 4
NO_PROBE = -40
# The MOSFET status codes [A]: 0x01 on, 0x0F "manually turned off", 0x00
# "off"; the others name what holds the MOSFET off.
MOSFET_ON = 0x01
MOSFET_OFF = 0x00
MOSFET_SWITCHED_OFF = 0x0F
CHARGE_CODES = {
    0x02: Alarm.CELL_OVERVOLTAGE,  # "Overcharge protection"
    0x03: Alarm.CHARGE_OVERCURRENT,
    0x05: Alarm.PACK_OVERVOLTAGE,  # "Total overpressure"
    0x06: Alarm.CHARGE_OVERTEMPERATURE,  # "Battery over temperature"
    0x07: Alarm.MOSFET_OVERTEMPERATURE,
    0x08: Alarm.HARDWARE_FAULT,  # "Abnormal current"
    0x09: Alarm.HARDWARE_FAULT,  # "Balanced line dropped string"
    0x0A: Alarm.MOSFET_OVERTEMPERATURE,  # "Motherboard over temperature"
    0x0D: Alarm.MOSFET_FAULT,  # "Discharge MOSFET abnormality"
}
DISCHARGE_CODES = {
    0x02: Alarm.CELL_UNDERVOLTAGE,  # "Overdischarge protection"
    0x03: Alarm.DISCHARGE_OVERCURRENT,
    0x05: Alarm.PACK_UNDERVOLTAGE,  # "Total pressure undervoltage"
    0x06: Alarm.DISCHARGE_OVERTEMPERATURE,
    0x07: Alarm.MOSFET_OVERTEMPERATURE,
    0x08: Alarm.HARDWARE_FAULT,  # "Abnormal current"
    0x09: Alarm.HARDWARE_FAULT,  # "Balanced line dropped string"
    0x0A: Alarm.MOSFET_OVERTEMPERATURE,  # "Motherboard over temperature"
    0x0C: Alarm.SHORT_CIRCUIT,
    0x0D: Alarm.MOSFET_FAULT,
    0x0E: Alarm.HARDWARE_FAULT,  # "Start exception"
}
SUPPORTED_ALARMS = frozenset({*CHARGE_CODES.values(), *DISCHARGE_CODES.values()})
# The pack voltage (0.1 V) and the cells are measured apart. The power at
# byte 111 is not checked against them: that capture states 9999 W at 0 A.
VOLTAGE_TOLERANCE = 0.5
VOLTAGE_SHARE = 0.02


def checksum(frame: bytes) -> int:
    """The 16-bit sum of bytes 4-137 [A][B]."""
    return sum(frame[4 : LENGTH - 2]) & 0xFFFF


def write_request(register: int, value: int) -> bytes:
    """``A5 A5 <register> <value:2> <sum>`` [A]."""
    body = bytes((register,)) + value.to_bytes(2, "big")
    return WRITE + body + bytes((sum(body) & 0xFF,))


def password_requests(password: str) -> list[bytes]:
    """The four writes that unlock a command: two characters each [A]."""
    raw = password.encode("ascii")
    return [
        write_request(register, int.from_bytes(raw[2 * i : 2 * i + 2], "big"))
        for i, register in enumerate(PASSWORD_REGISTERS)
    ]


def switch_requests(kind: SwitchKind, on: bool, password: str) -> list[bytes]:
    """Unlock, write the MOSFET's register, apply [A]."""
    return [
        *password_requests(password),
        write_request(REGISTERS[kind], int(on)),
        write_request(APPLY, 0),
    ]


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole status reply with a matching sum."""
    if len(frame) != LENGTH or frame[:4] != HEAD:
        raise FrameError("not an ANT legacy status reply")
    if checksum(frame) != int.from_bytes(frame[-2:], "big"):
        raise ChecksumError("ANT legacy checksum mismatch")


def is_status(frame: bytes) -> bool:
    """Whether ``frame`` answers the status request."""
    return frame[:4] == HEAD


class AntLegacyStatus(NamedTuple):
    """The decoded status reply; the current is positive while charging."""

    voltage: float
    current: float
    cell_voltages: tuple[float, ...]
    cell_probes: tuple[int | None, ...]
    mosfet_temperature: int
    soc: int
    full: float | None
    remaining: float
    total_charge: float
    charge_status: int
    discharge_status: int
    balancer_status: int
    balancing_cells: frozenset[int]
    alarms: frozenset[Alarm]

    @property
    def switches(self) -> dict[SwitchKind, bool]:
        """Each MOSFET as set: on unless it reads off or switched off [A]."""
        return {
            SwitchKind.CHARGE: _switched_on(self.charge_status),
            SwitchKind.DISCHARGE: _switched_on(self.discharge_status),
        }

    @property
    def cycles(self) -> int | None:
        """Full cycles: the charge counted over the capacity setting [B][D]."""
        if not self.full:
            return None
        return int(self.total_charge // self.full)


def _switched_on(code: int) -> bool:
    return code not in (MOSFET_OFF, MOSFET_SWITCHED_OFF)


def decode_status(frame: bytes) -> AntLegacyStatus:
    """Decode a status reply (a frame that passed :func:`check_frame`).

    The sum is weak, so a reply must also agree with itself: the highest,
    lowest and average cell fields and the balancing mask with the cells,
    the pack voltage with their sum, the remaining with the full capacity.
    """
    if not is_status(frame) or len(frame) != LENGTH:
        raise FrameError("not an ANT legacy status reply")
    cells = frame[COUNT_AT]
    if not 0 < cells <= MAX_CELLS:
        raise FrameError("ANT legacy cell count out of range")
    millivolts = list(unpack_run(frame, CELLS_AT, cells))
    values = {name: int(value) for name, value in read_fields(_INTS, frame).items()}
    scaled = read_fields(_SCALED, frame)
    _check_cells(millivolts, values, scaled["voltage"])
    full = scaled["full"] or None
    if values["soc"] > 100 or (full is not None and scaled["remaining"] > full * 1.05):
        raise FrameError("ANT legacy state of charge out of range")
    charge, discharge = values["charge_status"], values["discharge_status"]
    alarms = {CHARGE_CODES.get(charge), DISCHARGE_CODES.get(discharge)}
    probes = list(unpack_run(frame, PROBES_AT, 2 + CELL_PROBES, signed=True))
    return AntLegacyStatus(
        voltage=scaled["voltage"],
        current=0.0 - scaled["current"],
        cell_voltages=tuple(mv / 1000 for mv in millivolts),
        cell_probes=tuple(None if t == NO_PROBE else t for t in probes[2:]),
        mosfet_temperature=probes[0],
        soc=values["soc"],
        full=full,
        remaining=scaled["remaining"],
        total_charge=scaled["total"],
        charge_status=charge,
        discharge_status=discharge,
        balancer_status=values["balancer_status"],
        balancing_cells=frozenset(
            cell + 1 for cell in range(cells) if values["balanced_cells"] >> cell & 1
        ),
        alarms=frozenset(a for a in alarms if a is not None),
    )


def _check_cells(millivolts: list[int], values: dict[str, int], voltage: float) -> None:
    """Raise unless the summary fields describe these cells [A]."""
    if (
        values["max_cell"] != max(millivolts)
        or values["min_cell"] != min(millivolts)
        or abs(values["average_cell"] - sum(millivolts) / len(millivolts)) > 1
        or values["balanced_cells"] >> len(millivolts)
    ):
        raise FrameError("ANT legacy cell summary disagrees with the cells")
    cells = sum(millivolts) / 1000
    if abs(cells - voltage) > VOLTAGE_TOLERANCE + VOLTAGE_SHARE * cells:
        raise FrameError("ANT legacy pack voltage disagrees with the cells")
