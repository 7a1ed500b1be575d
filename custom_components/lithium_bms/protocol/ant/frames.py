"""ANT BMS frames (current protocol): ``7E A1 <function> <address:2> <length>``.

A frame is the head, ``length`` data bytes, a CRC-16/Modbus over everything
after ``7E`` (little-endian) and ``AA 55``. A request to read status is
``7E A1 01 00 00 BE``; the reply is function 0x11 with the counts of
temperature probes and cells, the cells and probes, then a fixed block whose
offsets move by two bytes per cell and probe. A register write is function
0x51 with the register as address and no data. Sources, cited below as [A]
and [B]:

- [A] patman15/aiobmsble ``aiobmsble/bms/ant_bms.py`` and
  ``tests/bms/test_ant_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
- [B] syssi/esphome-ant-bms ``components/ant_bms_ble/ant_bms_ble.cpp``
  @ 0849654429f91d5a3bf5aa8817c50044c612cd5c and
  ``components/ant_bms_ble/switch/__init__.py``
  @ 014f0eea80083850f19b5398d7f1906c59ce19cc (esphome-ant-bms issue #20)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..codecs.modbus import crc16
from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields
from ..snapshot import Alarm, SwitchKind

HEAD = b"\x7e\xa1"
TAIL = b"\xaa\x55"
HEADER = 6  # 7E A1 <function> <address:2> <length>
OVERHEAD = HEADER + 4  # the CRC and the tail
STATUS = 0x01
READ = 0x02
WRITE_REGISTER = 0x51
REPLY_FLAG = 0x10  # a reply's function is the request's with this bit [A][B]
STATUS_LENGTH = 0xBE  # what a status request asks for [A][B]
MAX_CELLS = 32  # [A][B]
MAX_PROBES = 4  # "Number of temperature sensors, max 4" [B]
# Bytes 10-33 are protection, warning and balancing bit masks with no public
# bit table [B]; the cells start at 34, the probes follow them, then a fixed
# block of 106 data bytes whose fields are below, from its start [A][B].
CELLS_AT = 34
FIXED_DATA = 106
STATUS_FIELDS = (
    Field("mosfet_temperature", 0, 2, signed=True, order="little"),
    # 2: the balancer temperature [A][B], no kind of probe of ours.
    Field("voltage", 4, 2, scale=0.01, decimals=2, order="little"),
    Field("current", 6, 2, signed=True, scale=0.1, decimals=1, order="little"),
    Field("soc", 8, 2, order="little"),
    Field("soh", 10, 2, order="little"),
    Field("charge_status", 12, 1),
    Field("discharge_status", 13, 1),
    Field("balancer_status", 14, 1),
    # The capacity setting and what remains, in µAh [A][B].
    Field("full", 16, 4, scale=1e-6, decimals=6, order="little"),
    Field("remaining", 20, 4, scale=1e-6, decimals=6, order="little"),
    Field("balanced_cells", 36, 4, order="little"),
    Field("max_cell", 40, 2, order="little"),
    Field("max_cell_number", 42, 2, order="little"),
    Field("min_cell", 44, 2, order="little"),
    Field("min_cell_number", 46, 2, order="little"),
    Field("delta_cell", 48, 2, order="little"),
)
_SCALED = Layout(*(f for f in STATUS_FIELDS if f.decimals is not None))
_INTS = Layout(*(f for f in STATUS_FIELDS if f.decimals is None))
# The MOSFET status codes [B]: 0x01 on, 0x0F "manually turned off", 0x00
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
    0x0D: Alarm.MOSFET_FAULT,  # "Discharge MOSFET abnormality"
    0x10: Alarm.CELL_OVERVOLTAGE,  # "Two level exceed voltage"
    0x11: Alarm.CHARGE_UNDERTEMPERATURE,
    0x12: Alarm.CELL_VOLTAGE_DIFFERENCE,
    0x14: Alarm.HARDWARE_FAULT,  # "Self detect error"
}
DISCHARGE_CODES = {
    0x02: Alarm.CELL_UNDERVOLTAGE,  # "Overdischarge protection"
    0x03: Alarm.DISCHARGE_OVERCURRENT,
    0x04: Alarm.DISCHARGE_OVERCURRENT,  # "Two current exceeded"
    0x05: Alarm.PACK_UNDERVOLTAGE,  # "Total pressure undervoltage"
    0x06: Alarm.DISCHARGE_OVERTEMPERATURE,
    0x07: Alarm.MOSFET_OVERTEMPERATURE,
    0x0C: Alarm.SHORT_CIRCUIT,
    0x0D: Alarm.MOSFET_FAULT,
    0x10: Alarm.CELL_UNDERVOLTAGE,  # "Two level low voltage"
    0x11: Alarm.DISCHARGE_UNDERTEMPERATURE,
    0x12: Alarm.CELL_VOLTAGE_DIFFERENCE,
    0x13: Alarm.HARDWARE_FAULT,  # "Self detect error"
}
SUPPORTED_ALARMS = frozenset({*CHARGE_CODES.values(), *DISCHARGE_CODES.values()})
# "Automatic equalization": the balancer switch reads on [B].
BALANCER_ON = 0x04
# Turn-on and turn-off registers of each switch [B].
REGISTERS = {
    SwitchKind.DISCHARGE: (0x0003, 0x0001),
    SwitchKind.CHARGE: (0x0006, 0x0004),
    SwitchKind.BALANCER: (0x000D, 0x000E),
}
# The pack voltage and the sum of the cells are measured apart: they may
# differ by this much and this share of the sum.
VOLTAGE_TOLERANCE = 0.5
VOLTAGE_SHARE = 0.02


def build_request(function: int, address: int, length: int) -> bytes:
    """``7E A1 <function> <address> <length> <crc> AA 55``, no data."""
    body = HEAD + bytes((function,)) + address.to_bytes(2, "little")
    body += bytes((length,))
    return body + crc16(body[1:]).to_bytes(2, "little") + TAIL


STATUS_REQUEST = build_request(STATUS, 0x0000, STATUS_LENGTH)
# The versions: 32 bytes read from 0x026C, hardware then software, 16 ASCII
# bytes each [A].
DEVICE_INFO_ADDRESS = 0x026C
DEVICE_INFO_LENGTH = 0x20
DEVICE_INFO_REQUEST = build_request(READ, DEVICE_INFO_ADDRESS, DEVICE_INFO_LENGTH)
DEVICE_INFO_SURPLUS = 6


def switch_request(kind: SwitchKind, on: bool) -> bytes:
    """The register write that switches ``kind`` [B]."""
    on_register, off_register = REGISTERS[kind]
    return build_request(WRITE_REGISTER, on_register if on else off_register, 0)


def frame_length(head: bytes) -> int:
    """The whole frame's length from its six-byte head (as its length byte says)."""
    return head[5] + OVERHEAD


def frame_lengths(head: bytes) -> tuple[int, ...]:
    """The lengths a frame with this head may have.

    [A]'s capture of the device-info reply carries six bytes more, between
    its CRC and its tail, than its length byte counts (aiobmsble skips the
    length check for it); a reply without them is taken too.
    """
    length = frame_length(head)
    if is_device_info(head):
        return (length, length + DEVICE_INFO_SURPLUS)
    return (length,)


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole frame with a matching CRC.

    The CRC follows the data its length byte counts.
    """
    if len(frame) < OVERHEAD or frame[:2] != HEAD:
        raise FrameError("not an ANT frame")
    if len(frame) not in frame_lengths(frame):
        raise FrameError("ANT frame length mismatch")
    if frame[-2:] != TAIL:
        raise FrameError("ANT frame without its tail")
    end = HEADER + frame[5]
    if crc16(frame[1:end]) != int.from_bytes(frame[end : end + 2], "little"):
        raise ChecksumError("ANT CRC mismatch")


def is_status(frame: bytes) -> bool:
    """Whether ``frame`` answers the status request."""
    return frame[2] == STATUS | REPLY_FLAG


def is_device_info(frame: bytes) -> bool:
    """Whether ``frame`` answers the device-info read."""
    return frame[2] == READ | REPLY_FLAG and frame[3:5] == DEVICE_INFO_ADDRESS.to_bytes(
        2, "little"
    )


@dataclass(frozen=True, slots=True)
class AntVersions:
    """The hardware and software version of the device-info reply [A]."""

    hw_version: str
    sw_version: str


def decode_device_info(frame: bytes) -> AntVersions:
    """Both versions of a device-info reply (a frame that passed its CRC)."""
    if not is_device_info(frame) or frame[5] != DEVICE_INFO_LENGTH:
        raise FrameError("not an ANT device-info reply")
    return AntVersions(_text(frame[6:22]), _text(frame[22:38]))


def _text(raw: bytes) -> str:
    """The printable ASCII text up to the first NUL."""
    text = raw.split(b"\x00", 1)[0]
    if not all(0x20 <= byte < 0x7F for byte in text):
        raise FrameError("ANT version is not printable ASCII")
    return text.decode("ascii").strip()


class AntStatus(NamedTuple):
    """The decoded status reply."""

    voltage: float
    current: float
    cell_voltages: tuple[float, ...]
    probes: tuple[int, ...]
    mosfet_temperature: int
    soc: int
    soh: int
    full: float
    remaining: float
    charge_status: int
    discharge_status: int
    balancer_status: int
    balancing_cells: frozenset[int]
    alarms: frozenset[Alarm]

    @property
    def switches(self) -> dict[SwitchKind, bool]:
        """Each switch as set: a MOSFET is on unless switched off [B]."""
        return {
            SwitchKind.CHARGE: _switched_on(self.charge_status),
            SwitchKind.DISCHARGE: _switched_on(self.discharge_status),
            SwitchKind.BALANCER: self.balancer_status == BALANCER_ON,
        }


def _switched_on(code: int) -> bool:
    return code not in (MOSFET_OFF, MOSFET_SWITCHED_OFF)


def decode_status(frame: bytes) -> AntStatus:
    """Decode a 0x11 status reply (a frame that passed :func:`check_frame`).

    The CRC is strong, yet a reply must also agree with itself: its length
    with its counts, the highest, lowest and delta cell fields with the
    cells, the pack voltage with their sum.
    """
    if not is_status(frame):
        raise FrameError("not an ANT status reply")
    probes, cells = frame[8], frame[9]
    if not 0 < cells <= MAX_CELLS or probes > MAX_PROBES:
        raise FrameError("ANT cell or probe count out of range")
    shift = 2 * (cells + probes)
    if frame[5] != FIXED_DATA + shift:
        raise FrameError("ANT status length disagrees with its counts")
    millivolts = [
        int.from_bytes(frame[at : at + 2], "little")
        for at in range(CELLS_AT, CELLS_AT + 2 * cells, 2)
    ]
    block = frame[CELLS_AT + shift :]
    values = {name: int(value) for name, value in read_fields(_INTS, block).items()}
    scaled = read_fields(_SCALED, block)
    _check_consistent(millivolts, values, scaled["voltage"])
    if values["soc"] > 100 or scaled["remaining"] > scaled["full"] * 1.05:
        raise FrameError("ANT state of charge out of range")
    charge, discharge = values["charge_status"], values["discharge_status"]
    alarms = {CHARGE_CODES.get(charge), DISCHARGE_CODES.get(discharge)} - {None}
    return AntStatus(
        voltage=scaled["voltage"],
        current=scaled["current"],
        cell_voltages=tuple(mv / 1000 for mv in millivolts),
        probes=tuple(
            int.from_bytes(frame[at : at + 2], "little", signed=True)
            for at in range(CELLS_AT + 2 * cells, CELLS_AT + shift, 2)
        ),
        mosfet_temperature=values["mosfet_temperature"],
        soc=values["soc"],
        soh=values["soh"],
        full=scaled["full"],
        remaining=scaled["remaining"],
        charge_status=charge,
        discharge_status=discharge,
        balancer_status=values["balancer_status"],
        balancing_cells=frozenset(
            cell + 1 for cell in range(cells) if values["balanced_cells"] >> cell & 1
        ),
        alarms=frozenset(a for a in alarms if a is not None),
    )


def _check_consistent(
    millivolts: list[int], values: dict[str, int], voltage: float
) -> None:
    """Raise unless the summary fields describe these cells [B]."""
    highest, lowest = max(millivolts), min(millivolts)
    numbers = (values["max_cell_number"], values["min_cell_number"])
    if (
        values["max_cell"] != highest
        or values["min_cell"] != lowest
        or values["delta_cell"] != highest - lowest
        or not all(0 < n <= len(millivolts) for n in numbers)
        or millivolts[numbers[0] - 1] != highest
        or millivolts[numbers[1] - 1] != lowest
    ):
        raise FrameError("ANT cell summary disagrees with the cells")
    cells = sum(millivolts) / 1000
    if abs(cells - voltage) > VOLTAGE_TOLERANCE + VOLTAGE_SHARE * cells:
        raise FrameError("ANT pack voltage disagrees with the cells")
