"""Neey / Heltec balancer frames: ``55 AA 11 01 <type> 00 <len:2> ... <sum> FF``.

A request is 20 bytes, ``AA 55 11 01 <type> 00 14 00``, zeros, the sum and
``FF``; a reply starts ``55 AA 11 01 <type> 00`` with its whole length as a
little-endian word, ends with the low byte of the sum of every byte before
it and ``FF``. Values are little-endian IEEE floats. Sources, cited below as
[A] and [B]:

- [A] patman15/aiobmsble ``aiobmsble/bms/neey_bms.py`` and
  ``tests/bms/test_neey_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
- [B] syssi/esphome-jk-bms
  ``components/heltec_balancer_ble/heltec_balancer_ble.cpp``
  @ 2fa4323bdde7d3c5abf758d92de8f6c7f6751b54

The cell-info reply (type 0x02, 300 bytes) has two layouts: the GW- models'
(v1) and the EK-B models' (v2, told by the model name of the device-info
reply [A][B]). Both carry 24 cell voltages from byte 9 and 24 wire
resistances from 105, the pack voltage at 201, the average cell at 205, the
spread at 209, the highest and lowest cell's index at 213 and 214 and the
operation status at 216 [B]. The sum is weak (one random frame in 256
passes), so a decoded frame must also agree with itself: the pack voltage
with its cells, the average, spread and indices with the cells, the state
of charge with the capacities.
"""

from __future__ import annotations

import math
import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from ..errors import ChecksumError, FrameError
from ..snapshot import Alarm, Temperature, TemperatureKind

REPLY_HEAD = b"\x55\xaa\x11\x01"
REQUEST_HEAD = b"\xaa\x55\x11\x01"
TAIL = 0xFF
REQUEST_LENGTH = 0x14
HEAD = 8  # head, type, 00, length word
MIN_LENGTH = 10
MAX_LENGTH = 512
MAX_CELLS = 24
CELLS_AT = 9
RESISTANCES_AT = 105
CELL_INFO_LENGTH = 300
# EK-B models answer with the v2 cell-info layout [A][B].
V2_MODEL_PREFIX = "EK-B"

# The pack voltage may differ from its cells' sum by rounding only: the
# balancer measures the cells and adds them (both captures: under 1 mV).
SUM_TOLERANCE = 0.05
# The average and spread fields against the cells, in volts.
CELL_TOLERANCE = 0.002
# The state of charge against remaining / total capacity, in percent.
SOC_TOLERANCE = 1.0


class FrameType(IntEnum):
    """Byte 4 of a request and its reply [A][B]."""

    DEVICE_INFO = 0x01
    CELL_INFO = 0x02
    SETTINGS = 0x04


# Operation status (byte 216) [B]: 0x05 is balancing; the faults by alarm.
BALANCING = 0x05
MAX_STATUS = 0x0C
STATUS_ALARMS = {
    0x01: Alarm.CELL_COUNT_MISMATCH,  # "Wrong cell count"
    0x03: Alarm.WIRE_RESISTANCE,  # "AcqLine Res exceed"
    0x07: Alarm.PACK_UNDERVOLTAGE,  # "Low voltage"
    0x08: Alarm.MOSFET_OVERTEMPERATURE,  # "System Overtemp"
    0x09: Alarm.HARDWARE_FAULT,  # "Host fails"
    0x0A: Alarm.PACK_UNDERVOLTAGE,  # "Low battery voltage - balancing stopped"
    0x0B: Alarm.MOSFET_OVERTEMPERATURE,  # "Temperature too high - balancing stopped"
}
# The per-cell bitmasks (24 bits each) and their alarm, by offset from the
# first mask: detection failed, overvoltage, undervoltage, polarity error,
# excessive wire resistance [B].
MASK_ALARMS = (
    Alarm.FRONTEND_ERROR,
    Alarm.CELL_OVERVOLTAGE,
    Alarm.CELL_UNDERVOLTAGE,
    Alarm.HARDWARE_FAULT,
    Alarm.WIRE_RESISTANCE,
)
# The "system overheating" byte after the masks (bit 0, bit 1: probe 1, 2)
# [B]; the charging and discharge fault bytes after it have no public
# meaning for a balancer and are not read.
OVERHEATING_AFTER_MASKS = 3 * len(MASK_ALARMS)
SUPPORTED_ALARMS = frozenset({*STATUS_ALARMS.values(), *MASK_ALARMS})


def checksum(data: bytes) -> int:
    """The low byte of the sum of ``data`` [A]."""
    return sum(data) & 0xFF


def build_request(kind: FrameType) -> bytes:
    """``AA 55 11 01 <type> 00 14 00`` and zeros, the sum and ``FF`` [A][B]."""
    body = REQUEST_HEAD + bytes((kind, 0, REQUEST_LENGTH)) + bytes(11)
    return body + bytes((checksum(body), TAIL))


def frame_length(frame: bytes) -> int:
    """The length word of a reply head."""
    return int.from_bytes(frame[6:8], "little")


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole reply with a matching sum."""
    if len(frame) < MIN_LENGTH or frame[:4] != REPLY_HEAD or frame[5] != 0:
        raise FrameError("not a Neey frame")
    if frame_length(frame) != len(frame):
        raise FrameError("Neey frame length mismatch")
    if frame[-1] != TAIL:
        raise FrameError("Neey frame without its FF tail")
    if checksum(frame[:-2]) != frame[-2]:
        raise ChecksumError("Neey checksum mismatch")


def is_reply(frame: bytes, kind: FrameType) -> bool:
    """Whether ``frame`` answers a ``kind`` request."""
    return frame[4:5] == bytes((kind,))


@dataclass(frozen=True, slots=True)
class NeeyDeviceInfo:
    """The device-info reply: model, versions, and the layout they imply."""

    model: str
    hw_version: str
    sw_version: str

    @property
    def v2(self) -> bool:
        """Whether the model answers with the v2 cell-info layout."""
        return self.model.startswith(V2_MODEL_PREFIX)


def decode_device_info(frame: bytes) -> NeeyDeviceInfo:
    """Model at 8, hardware version at 24, software version at 32 [A][B].

    The model picks the cell-info layout, and the sum is weak: a reply whose
    texts are not printable ASCII, or that names no model, is refused rather
    than read as a v1 model.
    """
    if not is_reply(frame, FrameType.DEVICE_INFO) or len(frame) < 42:
        raise FrameError("not a Neey device-info reply")
    info = NeeyDeviceInfo(
        model=_text(frame[8:24]),
        hw_version=_text(frame[24:32]),
        sw_version=_text(frame[32:40]),
    )
    if not info.model:
        raise FrameError("Neey device-info reply names no model")
    return info


class NeeyCellInfo(NamedTuple):
    """The decoded cell-info reply."""

    voltage: float
    cell_voltages: tuple[float, ...]
    cell_resistances: tuple[float, ...]
    balancing: bool
    balance_current: float
    temperatures: tuple[Temperature, ...]
    alarms: frozenset[Alarm]
    status: int
    # v2 only: the current and capacities [A] (None on v1).
    current: float | None = None
    design_capacity: float | None = None
    remaining_capacity: float | None = None
    soc: float | None = None


class CellLayout(ABC):
    """What differs between the two cell-info layouts."""

    name: str
    masks_at: int

    @abstractmethod
    def extras(self, frame: bytes) -> dict[str, float]:
        """Balance current, current and capacities."""

    @abstractmethod
    def temperatures(self, frame: bytes) -> tuple[Temperature, ...]:
        """The probes."""

    def check(self, extras: dict[str, float]) -> None:
        """Raise unless the layout's own values agree (v1 has none to compare)."""


class LayoutV1(CellLayout):
    """GW- models: balance current at 217, two probes at 221 and 225 [A][B]."""

    name = "v1"
    masks_at = 229

    def extras(self, frame: bytes) -> dict[str, float]:
        """Balance current only: a v1 balancer measures no pack current."""
        return {"balance_current": _float(frame, 217, 3)}

    def temperatures(self, frame: bytes) -> tuple[Temperature, ...]:
        """Both probes, on the cells [B] ("Temperature 1", "Temperature 2")."""
        return tuple(
            Temperature(TemperatureKind.CELL, _float(frame, at, 2)) for at in (221, 225)
        )


class LayoutV2(CellLayout):
    """EK-B models: fields from 218, the masks 37 bytes later than v1's [B]."""

    name = "v2"
    masks_at = 266

    def extras(self, frame: bytes) -> dict[str, float]:
        """Balance current at 218 [A][B]; current at 222 and capacities [A].

        [B] leaves 222 unnamed; [A]'s capture reads 2.026 A there, and its
        remaining capacity over the total (177.407 / 320) is the state of
        charge it states (55.44 %), which :func:`_check_v2` requires.
        """
        return {
            "balance_current": _float(frame, 218, 3),
            "current": _float(frame, 222, 3),
            "design_capacity": _float(frame, 242, 3),
            "remaining_capacity": _float(frame, 246, 3),
            "soc": _float(frame, 250, 2),
        }

    def check(self, extras: dict[str, float]) -> None:
        """Current, capacities and state of charge must agree."""
        _check_v2(extras)

    def temperatures(self, frame: bytes) -> tuple[Temperature, ...]:
        """Two cell probes, the MOSFET, the balancer board (ambient) [B]."""
        kinds = (
            TemperatureKind.CELL,
            TemperatureKind.CELL,
            TemperatureKind.MOSFET,
            TemperatureKind.AMBIENT,
        )
        return tuple(
            Temperature(kind, _float(frame, 226 + 4 * index, 2))
            for index, kind in enumerate(kinds)
        )


LAYOUTS: dict[bool, CellLayout] = {False: LayoutV1(), True: LayoutV2()}


def decode_cell_info(frame: bytes, layout: CellLayout) -> NeeyCellInfo:
    """Decode a cell-info reply (a frame that passed :func:`check_frame`)."""
    if not is_reply(frame, FrameType.CELL_INFO) or len(frame) != CELL_INFO_LENGTH:
        raise FrameError("not a Neey cell-info reply")
    raw = list(_raw_floats(frame, CELLS_AT, MAX_CELLS))
    count = next((i for i, v in enumerate(raw) if v == 0), MAX_CELLS)
    if count == 0 or any(raw[count:]):
        raise FrameError("Neey cells are not one contiguous block")
    cells = tuple(round(v, 3) for v in raw[:count])
    resistances = tuple(round(v, 4) for v in _raw_floats(frame, RESISTANCES_AT, count))
    voltage = _float(frame, 201, 3)
    status = frame[216]
    _check_cells(frame, raw[:count], voltage, resistances, status)
    extras = layout.extras(frame)
    temperatures = layout.temperatures(frame)
    balance_current = extras.pop("balance_current")
    if abs(balance_current) > 100:
        raise FrameError("Neey balance current out of range")
    if any(t.value is None or not -60 <= t.value <= 200 for t in temperatures):
        raise FrameError("Neey temperature out of range")
    alarms = set()
    if status in STATUS_ALARMS:
        alarms.add(STATUS_ALARMS[status])
    for index, alarm in enumerate(MASK_ALARMS):
        at = layout.masks_at + 3 * index
        if int.from_bytes(frame[at : at + 3], "little"):
            alarms.add(alarm)
    if frame[layout.masks_at + OVERHEATING_AFTER_MASKS]:
        alarms.add(Alarm.MOSFET_OVERTEMPERATURE)
    layout.check(extras)
    return NeeyCellInfo(
        voltage=voltage,
        cell_voltages=cells,
        cell_resistances=resistances,
        balancing=status == BALANCING,
        balance_current=balance_current,
        temperatures=temperatures,
        alarms=frozenset(alarms),
        status=status,
        **extras,
    )


def _check_cells(
    frame: bytes,
    cells: list[float],
    voltage: float,
    resistances: tuple[float, ...],
    status: int,
) -> None:
    """Refuse a frame whose summary fields disagree with its cells."""
    if not all(0 < v < 5 for v in cells):
        raise FrameError("Neey cell voltage out of range")
    if not all(0 <= r < 10 for r in resistances):
        raise FrameError("Neey wire resistance out of range")
    if abs(voltage - sum(cells)) > SUM_TOLERANCE:
        raise FrameError("Neey pack voltage is not the sum of its cells")
    average = _raw_float(frame, 205)
    spread = _raw_float(frame, 209)
    if abs(average - sum(cells) / len(cells)) > CELL_TOLERANCE:
        raise FrameError("Neey average cell voltage disagrees with the cells")
    if abs(spread - (max(cells) - min(cells))) > CELL_TOLERANCE:
        raise FrameError("Neey cell spread disagrees with the cells")
    highest, lowest = frame[213], frame[214]
    if highest >= len(cells) or lowest >= len(cells):
        raise FrameError("Neey highest or lowest cell out of range")
    if (
        abs(cells[highest] - max(cells)) > CELL_TOLERANCE
        or abs(cells[lowest] - min(cells)) > CELL_TOLERANCE
    ):
        raise FrameError("Neey highest or lowest cell disagrees with the cells")
    if status > MAX_STATUS:
        raise FrameError("Neey operation status unknown")


def _check_v2(extras: dict[str, float]) -> None:
    """Current, capacities and state of charge of a v2 frame must agree."""
    current = extras["current"]
    design = extras["design_capacity"]
    remaining = extras["remaining_capacity"]
    soc = extras["soc"]
    if abs(current) > 2000 or not 0 < design <= 100_000 or not 0 <= soc <= 100:
        raise FrameError("Neey v2 value out of range")
    if not 0 <= remaining <= design:
        raise FrameError("Neey remaining capacity above the total")
    if abs(remaining / design * 100 - soc) > SOC_TOLERANCE:
        raise FrameError("Neey state of charge disagrees with the capacities")


def _raw_floats(frame: bytes, at: int, count: int) -> tuple[float, ...]:
    """``count`` floats side by side from ``at``, in one unpack."""
    values: tuple[float, ...] = struct.unpack_from(f"<{count}f", frame, at)
    if not all(map(math.isfinite, values)):
        raise FrameError("Neey value not a number")
    return values


def _raw_float(frame: bytes, at: int) -> float:
    value: float = struct.unpack_from("<f", frame, at)[0]
    if not math.isfinite(value):
        raise FrameError("Neey value not a number")
    return value


def _float(frame: bytes, at: int, decimals: int) -> float:
    return round(_raw_float(frame, at), decimals)


def _text(raw: bytes) -> str:
    """The printable ASCII text up to the first NUL."""
    text = raw.split(b"\x00", 1)[0]
    if not all(0x20 <= byte < 0x7F for byte in text):
        raise FrameError("Neey text is not printable ASCII")
    return text.decode("ascii").strip()
