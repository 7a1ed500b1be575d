"""The Growatt low-voltage CAN protocol: the frames a battery answers with.

A Growatt inverter sends 0x301 about once a second; the battery answers with
0x311 to 0x321 (11-bit IDs, 500 kbit/s, every value big-endian), and a
listener hears them all. Seplos boards speak it when set to the Growatt
protocol, and it is the only CAN protocol of theirs that carries every cell.

Checked against a captured Seplos pack (victorstoica114/sigrok-pylon-bms-
decoders, analysis/out/direct-growatt-seplos-can-raw-capture.frames.csv,
with the values its decoder states, and docs/growatt-can-frame-map.md); the
layouts as "Growatt BMS CAN-Bus-protocol Low Voltage Rev_04" names them
(dalathegreat/Battery-Emulator Software/src/inverter/GROWATT-LV-CAN.cpp, which
also says the current is signed and the cell count is 0x312 byte 7).

- 0x311: charge voltage 0.1 V, charge and discharge current limits 0.1 A
  (the status bits of bytes 6-7 are not read: the sources disagree);
- 0x312: the pack count (byte 4) and the cell count (byte 7); its
  protection and alarm bits are not read (no capture shows one set);
- 0x313: pack voltage 0.01 V, current 0.1 A (charging positive, as the
  emulator maps it; the capture shows 0 A), the highest cell temperature
  0.1 °C, SOC, SOH (bits 0-6);
- 0x315 to 0x318: cells 1-16 in mV, four a frame;
- 0x320: the maker, two capital letters.

Not read: 0x314 (its remaining capacity, 48 % of full in the capture,
disagrees with the SOC of 70 % sent beside it), 0x319 (the capture's decoder
and the two sources read its flags differently), 0x321 and 0x322.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import FrameError
from .frames import decode_by_id, need

LIMITS_ID = 0x311
COUNTS_ID = 0x312
MEASUREMENT_ID = 0x313
CELLS_ID = 0x315
CELL_GROUPS = 4
MAKER_ID = 0x320


@dataclass(frozen=True, slots=True)
class GrowattLimits:
    """0x311: charge voltage (V), charge and discharge current limits (A)."""

    charge_voltage: float
    charge_current: float
    discharge_current: float


@dataclass(frozen=True, slots=True)
class GrowattCounts:
    """0x312: how many packs answer, and how many cells the pack has."""

    packs: int
    cells: int


@dataclass(frozen=True, slots=True)
class GrowattMeasurement:
    """0x313: voltage (V), current (A, + charging), temperature (°C), SOC, SOH."""

    voltage: float
    current: float
    temperature: float
    state_of_charge: int
    state_of_health: int


@dataclass(frozen=True, slots=True)
class GrowattCells:
    """0x315 to 0x318: four cell voltages (V) of group ``group``."""

    group: int
    voltages: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class GrowattMaker:
    """0x320 bytes 0-1: the maker's abbreviation."""

    name: str


type GrowattDecoded = (
    GrowattLimits | GrowattCounts | GrowattMeasurement | GrowattCells | GrowattMaker
)


def decode_limits(data: bytes) -> GrowattLimits:
    """0x311 bytes 0-5."""
    need(data, 6, "Growatt 0x311")
    volts, charge, discharge = struct.unpack_from(">Hhh", data)
    return GrowattLimits(volts / 10, charge / 10, discharge / 10)


def decode_counts(data: bytes) -> GrowattCounts:
    """0x312 bytes 4 and 7; a pack of no cells is malformed."""
    need(data, 8, "Growatt 0x312")
    if data[7] == 0:
        raise FrameError("Growatt 0x312: a pack of 0 cells")
    return GrowattCounts(data[4], data[7])


def decode_measurement(data: bytes) -> GrowattMeasurement:
    """0x313; a SOC or SOH over 100 % is malformed."""
    need(data, 8, "Growatt 0x313")
    volts, amps, tenths, soc, health = struct.unpack_from(">HhhBB", data)
    soh = health & 0x7F
    if soc > 100 or soh > 100:
        raise FrameError(f"Growatt 0x313: SOC {soc} / SOH {soh} over 100 %")
    return GrowattMeasurement(volts / 100, amps / 10, tenths / 10, soc, soh)


def _cells_of(group: int) -> Callable[[bytes], GrowattCells]:
    def decode_cells(data: bytes) -> GrowattCells:
        """Four cells of 16 bits."""
        need(data, 8, f"Growatt 0x{CELLS_ID + group:03X}")
        millivolts = struct.unpack_from(">4H", data)
        return GrowattCells(group, tuple(mv / 1000 for mv in millivolts))

    return decode_cells


def decode_maker(data: bytes) -> GrowattMaker:
    """0x320 bytes 0-1: two capital letters or digits."""
    need(data, 2, "Growatt 0x320")
    name = data[:2]
    if not all(0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A for byte in name):
        raise FrameError(f"Growatt 0x320: not a maker's abbreviation: {name.hex()}")
    return GrowattMaker(name.decode("ascii"))


DECODERS: dict[int, Callable[[bytes], GrowattDecoded]] = {
    LIMITS_ID: decode_limits,
    COUNTS_ID: decode_counts,
    MEASUREMENT_ID: decode_measurement,
    **{CELLS_ID + group: _cells_of(group) for group in range(CELL_GROUPS)},
    MAKER_ID: decode_maker,
}


def decode_growatt(arbitration_id: int, data: bytes) -> GrowattDecoded | None:
    """The frame's content; None for an ID not read here.

    Raises :class:`FrameError` for a malformed frame of a known ID.
    """
    return decode_by_id(
        DECODERS, arbitration_id, data, f"Growatt 0x{arbitration_id:03X}"
    )
