"""JK's own CAN protocol: the frames a JK BMS (JK-PB and newer) broadcasts.

Checked against a captured 16-cell JK BMS (victorstoica114/sigrok-pylon-bms-
decoders, analysis/out/jkbms-can-raw-capture.frames.csv, with the values its
decoder states); the IDs and layouts as JK's CAN protocol document names
them (mr-manuel/venus-os_dbus-serialbattery bms/jkbms_pb_can.py, CELL_VOLT_EXT1
to 6 = 0x18E028F4 to 0x18E528F4; hoylabs/OpenDTU-OnBattery
src/battery/jkbms/can/Provider.cpp). Every value is little-endian.

- 0x2F4: pack voltage 0.1 V, current 0.1 A with an offset of -400 A
  (charging positive, as both sources read it), SOC in byte 4;
- 0x5F4: highest, lowest and average temperature, offset -50 °C;
- 0x18F128F4: remaining and rated capacity 0.1 Ah, cycles in bytes 6-7;
- 0x18E028F4 + n * 0x10000 (n = 0 to 7): cells 4n+1 to 4n+4 in mV, a cell
  a pack does not have reads 0.

The IDs are those of the BMS at CAN address 0; the BMS at address ``a``
sends each ID plus ``a`` (a user saw 0x2F6, 0x4F6 and 0x5F6 at address 2:
mr-manuel/venus-os_dbus-serialbattery issue 288; both sources above add the
address to the extended IDs too). The others JK sends (0x4F4 cell extremes,
derived from the cells here; 0x7F4 alarms, sent on events only, of which no
capture states the bits; 0x18F228F4 to 0x18F528F4, whose layouts the capture
leaves unexplained) are not read.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import FrameError
from .frames import decode_by_id, need

STATUS_ID = 0x2F4
TEMPERATURE_ID = 0x5F4
CAPACITY_ID = 0x18F128F4
CELLS_ID = 0x18E028F4
CELL_GROUPS = 8
CELLS_PER_FRAME = 4
# Addresses 0 to 11: the IDs' last byte runs from F4 to FF.
ADDRESSES = 12
CURRENT_OFFSET = 400.0
TEMPERATURE_OFFSET = 50


@dataclass(frozen=True, slots=True)
class JkStatus:
    """0x2F4: pack voltage (V), current (A, + charging), SOC (percent)."""

    voltage: float
    current: float
    state_of_charge: int


@dataclass(frozen=True, slots=True)
class JkTemperatures:
    """0x5F4: the highest, lowest and average temperature (°C)."""

    highest: float
    lowest: float
    average: float


@dataclass(frozen=True, slots=True)
class JkCapacity:
    """0x18F128F4: remaining and rated capacity (Ah) and the cycle count."""

    remaining_capacity: float
    rated_capacity: float
    cycles: int


@dataclass(frozen=True, slots=True)
class JkCells:
    """0x18E028F4 to 0x18E728F4: four cell voltages (V) of group ``group``."""

    group: int
    voltages: tuple[float, ...]


type JkDecoded = JkStatus | JkTemperatures | JkCapacity | JkCells


def decode_status(data: bytes) -> JkStatus:
    """0x2F4: voltage, offset current, SOC; a SOC over 100 % is malformed."""
    need(data, 5, "JK 0x2F4")
    volts, amps = struct.unpack_from("<HH", data)
    soc = data[4]
    if soc > 100:
        raise FrameError(f"JK 0x2F4: SOC {soc} over 100 %")
    return JkStatus(volts / 10, round(amps / 10 - CURRENT_OFFSET, 1), soc)


def decode_temperatures(data: bytes) -> JkTemperatures:
    """0x5F4: bytes 0, 2 and 4 (bytes 1 and 3 name the probes)."""
    need(data, 5, "JK 0x5F4")
    return JkTemperatures(
        float(data[0] - TEMPERATURE_OFFSET),
        float(data[2] - TEMPERATURE_OFFSET),
        float(data[4] - TEMPERATURE_OFFSET),
    )


def decode_capacity(data: bytes) -> JkCapacity:
    """0x18F128F4: remaining, rated (bytes 4-5 not read), cycles."""
    need(data, 8, "JK 0x18F128F4")
    remaining, rated, _reserved, cycles = struct.unpack_from("<HHHH", data)
    if remaining > rated:
        raise FrameError(f"JK 0x18F128F4: {remaining / 10} Ah left of {rated / 10}")
    return JkCapacity(remaining / 10, rated / 10, cycles)


def _cells_of(group: int) -> Callable[[bytes], JkCells]:
    def decode_cells(data: bytes) -> JkCells:
        """Four cells; a shorter frame (the last group) holds fewer."""
        if not data or len(data) % 2:
            raise FrameError(f"JK cell group {group + 1}: {len(data)} bytes")
        millivolts = struct.unpack(f"<{len(data) // 2}H", data)
        return JkCells(group, tuple(mv / 1000 for mv in millivolts))

    return decode_cells


STANDARD: dict[int, Callable[[bytes], JkDecoded]] = {
    STATUS_ID: decode_status,
    TEMPERATURE_ID: decode_temperatures,
}
EXTENDED: dict[int, Callable[[bytes], JkDecoded]] = {
    CAPACITY_ID: decode_capacity,
    **{CELLS_ID + (group << 16): _cells_of(group) for group in range(CELL_GROUPS)},
}


def decode_jk(
    arbitration_id: int, extended: bool, data: bytes
) -> tuple[int, JkDecoded] | None:
    """The sending BMS's address and the frame's content.

    None for an ID JK's protocol does not define here. Raises
    :class:`FrameError` for a malformed frame of a known ID.
    """
    address = (arbitration_id & 0xFF) - (STATUS_ID & 0xFF)
    if not 0 <= address < ADDRESSES:
        return None
    part = decode_by_id(
        EXTENDED if extended else STANDARD,
        arbitration_id - address,
        data,
        f"JK 0x{arbitration_id:X}",
    )
    return None if part is None else (address, part)
