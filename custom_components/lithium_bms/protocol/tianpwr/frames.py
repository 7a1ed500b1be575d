"""TianPower frames: requests ``55 04 <type> AA``, replies of 20 bytes.

A reply is ``55 14 <type> <16 data bytes> AA``; numbers are big-endian and no
frame carries a checksum. Each request is answered by the one reply of its
type. Sources, cited below:

- [A] aiobmsble 0.31.0 (PyPI sdist) ``aiobmsble/bms/tianpwr_bms.py``
- [B] aiobmsble 0.31.0 (PyPI sdist) ``tests/bms/test_tianpwr_bms.py`` (the
  replies of a TP-LT55, with the values the test asserts)
- [C] syssi/esphome-tianpower-bms ``docs/protocol-design.md`` and
  ``components/tianpower_bms_ble/tianpower_bms_ble.cpp``
  @ 08bb7f711909649932b2a624945b6b507e9264df
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import FrameError
from ..fields import Field, Layout, read_fields, unpack_run
from ..snapshot import Alarm

HEAD = 0x55
TAIL = 0xAA
REQUEST = 0x04  # byte 1 of a request [A][C]
REPLY = 0x14  # byte 1 of a reply: its length [A][C]
FRAME_LENGTH = 20
# Reply types [A][C].
SOFTWARE = 0x81
HARDWARE = 0x82
STATUS = 0x83
INFO = 0x84
MOSFETS = 0x85
GYRO = 0x86
TEMPERATURES = 0x87
CELLS = 0x88  # cells 1-8; 0x89 and 0x8A the next eight each [C]
# Two frames of location text, two of owner text [C]: the user's own words.
PRIVATE = frozenset({0x90, 0x91, 0x94, 0x95})
REPLY_TYPES = frozenset(range(SOFTWARE, CELLS + 3)) | PRIVATE
CELLS_PER_FRAME = 8
MAX_CELLS = 24  # three cell frames [C]
MAX_PROBES = 8  # the words of the 0x87 reply [C]
DATA = 3  # the first data byte

# The 0x83 reply [A][C]: %, 10 mV, signed 10 mA (positive while charging),
# signed 0.1 °C of the ambient and the MOSFET probes, %.
STATUS_FIELDS = Layout(
    Field("soc", 3, 2),
    Field("voltage", 5, 2, scale=0.01, decimals=2),
    Field("ambient", 9, 2, signed=True, scale=0.1, decimals=1),
    Field("mosfet", 11, 2, signed=True, scale=0.1, decimals=1),
    Field("current", 13, 2, signed=True, scale=0.01, decimals=2),
    Field("soh", 17, 2),
)
# The 0x84 reply [A][C]: counts, 10 mAh, cycles, four protection words.
INFO_FIELDS = Layout(
    Field("cells", 3, 1),
    Field("probes", 4, 1),
    Field("design", 5, 2, scale=0.01, decimals=2),
    Field("remaining", 7, 2, scale=0.01, decimals=2),
    Field("cycles", 9, 2),
    Field("voltage_word", 11, 2),
    Field("current_word", 13, 2),
    Field("temperature_word", 15, 2),
    Field("error_word", 17, 2),
)
# The 0x85 reply: the MOSFET bits [A][C] and the balancing word [A], one bit
# per cell from cell 1 [C].
MOSFET_BITS = 4
BALANCING_AT = 13

# The protection bits [C] the alarms name; warnings and states are left out.
# The current word's bits 0 and 1 are charge overcurrent and short circuit in
# [C] but MOSFET states in [A] (masked from its problem code): not named.
VOLTAGE_ALARMS = {
    0: Alarm.CELL_OVERVOLTAGE,
    1: Alarm.CELL_UNDERVOLTAGE,
    2: Alarm.PACK_OVERVOLTAGE,
    3: Alarm.PACK_UNDERVOLTAGE,
}
CURRENT_ALARMS = {2: Alarm.DISCHARGE_OVERCURRENT, 3: Alarm.DISCHARGE_OVERCURRENT}
TEMPERATURE_ALARMS = {
    0: Alarm.CHARGE_OVERTEMPERATURE,
    1: Alarm.CHARGE_UNDERTEMPERATURE,
    2: Alarm.DISCHARGE_OVERTEMPERATURE,
    3: Alarm.DISCHARGE_UNDERTEMPERATURE,
    6: Alarm.MOSFET_OVERTEMPERATURE,
}
ERROR_ALARMS = {
    8: Alarm.MOSFET_OVERTEMPERATURE,
    13: Alarm.TEMPERATURE_SENSOR_FAULT,
    14: Alarm.MOSFET_FAULT,
    15: Alarm.MOSFET_FAULT,
}
WORD_ALARMS = (
    ("voltage_word", VOLTAGE_ALARMS),
    ("current_word", CURRENT_ALARMS),
    ("temperature_word", TEMPERATURE_ALARMS),
    ("error_word", ERROR_ALARMS),
)
SUPPORTED_ALARMS = frozenset(
    alarm for _, table in WORD_ALARMS for alarm in table.values()
)


class TianpwrStatus(NamedTuple):
    """The decoded 0x83 reply."""

    soc: int
    voltage: float
    ambient: float
    mosfet: float
    current: float
    soh: int


class TianpwrInfo(NamedTuple):
    """The decoded 0x84 reply."""

    cells: int
    probes: int
    design: float
    remaining: float
    cycles: int
    alarms: frozenset[Alarm]


class TianpwrMosfets(NamedTuple):
    """The decoded 0x85 reply; a MOSFET is None where the sources disagree."""

    charge: bool | None
    discharge: bool | None
    balancing: bool
    balancing_cells: frozenset[int]


def build_request(kind: int) -> bytes:
    """``55 04 <type> AA`` [A][C]."""
    return bytes((HEAD, REQUEST, kind, TAIL))


def is_reply(frame: bytes, kind: int) -> bool:
    """Whether ``frame`` is a reply of type ``kind``."""
    return frame[2] == kind


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole reply of a known type."""
    if len(frame) != FRAME_LENGTH or frame[0] != HEAD or frame[1] != REPLY:
        raise FrameError("not a TianPower frame")
    if frame[2] not in REPLY_TYPES:
        raise FrameError("unknown TianPower reply type")
    if frame[-1] != TAIL:
        raise FrameError("TianPower frame without its end byte")


def decode_text(frame: bytes) -> str:
    """The text of a version reply up to its first NUL ("TP-LT55" in [B])."""
    text = frame[DATA:-1].split(b"\0", 1)[0].decode("ascii", "replace")
    return text.strip()


def decode_status(frame: bytes) -> TianpwrStatus:
    """Decode a 0x83 reply."""
    _expect(frame, STATUS)
    values = read_fields(STATUS_FIELDS, frame)
    status = TianpwrStatus(
        soc=int(values["soc"]),
        voltage=values["voltage"],
        ambient=values["ambient"],
        mosfet=values["mosfet"],
        current=values["current"],
        soh=int(values["soh"]),
    )
    if status.soc > 100 or status.soh > 100:
        raise FrameError("TianPower percentage above 100")
    return status


def decode_info(frame: bytes) -> TianpwrInfo:
    """Decode a 0x84 reply."""
    _expect(frame, INFO)
    values = read_fields(INFO_FIELDS, frame)
    cells, probes = int(values["cells"]), int(values["probes"])
    if not 0 < cells <= MAX_CELLS:
        raise FrameError("TianPower cell count out of range")
    if probes > MAX_PROBES:
        raise FrameError("TianPower probe count does not fit the frame")
    alarms = frozenset(
        alarm
        for target, table in WORD_ALARMS
        for bit, alarm in table.items()
        if int(values[target]) >> bit & 1
    )
    return TianpwrInfo(
        cells=cells,
        probes=probes,
        design=values["design"],
        remaining=values["remaining"],
        cycles=int(values["cycles"]),
        alarms=alarms,
    )


def decode_mosfets(frame: bytes, cells: int) -> TianpwrMosfets:
    """Decode a 0x85 reply of a pack of ``cells`` cells.

    Bits 0 and 1 are the MOSFETs: charge 0x02 and discharge 0x01 in [A],
    the other way round in [C]. Only where both bits agree is each MOSFET's
    state known.
    """
    _expect(frame, MOSFETS)
    low, high = frame[MOSFET_BITS] & 1, frame[MOSFET_BITS] >> 1 & 1
    state = bool(low) if low == high else None
    mask = int.from_bytes(frame[BALANCING_AT : BALANCING_AT + 2])
    return TianpwrMosfets(
        charge=state,
        discharge=state,
        balancing=bool(mask),
        balancing_cells=frozenset(
            cell + 1 for cell in range(min(cells, 16)) if mask >> cell & 1
        ),
    )


def decode_temperatures(frame: bytes, probes: int) -> tuple[float, ...]:
    """The first ``probes`` signed 0.1 °C words of a 0x87 reply [A][C]."""
    _expect(frame, TEMPERATURES)
    raw = unpack_run(frame, DATA, min(probes, MAX_PROBES), signed=True)
    return tuple(round(value * 0.1, 1) for value in raw)


def cell_frames(cells: int) -> range:
    """The cell reply types a pack of ``cells`` cells answers [C]."""
    return range(CELLS, CELLS + -(-cells // CELLS_PER_FRAME))


def decode_cells(frame: bytes, count: int) -> tuple[float, ...]:
    """The first ``count`` (at most eight) mV words of a cell reply [A][C]."""
    if len(frame) != FRAME_LENGTH or frame[2] not in range(CELLS, CELLS + 3):
        raise FrameError("not a TianPower cell reply")
    raw = unpack_run(frame, DATA, min(count, CELLS_PER_FRAME))
    return tuple(value / 1000 for value in raw)


def _expect(frame: bytes, kind: int) -> None:
    if len(frame) != FRAME_LENGTH or not is_reply(frame, kind):
        raise FrameError(f"not a TianPower 0x{kind:02X} reply")
