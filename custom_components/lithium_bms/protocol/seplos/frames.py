"""Seplos: what the V2 and V3 protocols share once decoded.

Both report temperatures in 0.1 K with 2731 for 0 °C, the same alarm event
bytes (the V2 "alarm event 2/3" bytes are the V3 TB02/TB03 codes bit for bit)
and the same MOSFET bits. Sources: the SEPLOS BMS Communication Protocol V2.0
(syssi/esphome-seplos-bms ``docs/SEPLOS BMS Communication Protocol_V2.0.md``
@ 6478c14036aad7c3a90dc4238b7f3c8b392f8ba3, Tables 9 and 13) and the XZH BMS
Modbus-RTU Protocol V0.1 (same repository, ``docs/XZH BMS Modbus-RTU
Protocol.md`` @ dedb6bb404330241f34a744bae1a128c14eb2e24, TB02-TB16).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..snapshot import Alarm, BatterySnapshot, Temperature, TemperatureKind

ZERO_CELSIUS = 2731  # 0.1 K
MAX_CELLS = 16
CELL_PROBES = 4

# A bit table: the bit of an event byte -> the alarm it raises.
type BitTable = Mapping[int, Alarm]

# V2 "alarm event 2" = V3 TB02: alarm (warning) and protection of each limit.
VOLTAGE_EVENTS: BitTable = {
    0: Alarm.CELL_OVERVOLTAGE,
    1: Alarm.CELL_OVERVOLTAGE,
    2: Alarm.CELL_UNDERVOLTAGE,
    3: Alarm.CELL_UNDERVOLTAGE,
    4: Alarm.PACK_OVERVOLTAGE,
    5: Alarm.PACK_OVERVOLTAGE,
    6: Alarm.PACK_UNDERVOLTAGE,
    7: Alarm.PACK_UNDERVOLTAGE,
}
# V2 "alarm event 3" = V3 TB03: the cell temperatures.
CELL_TEMPERATURE_EVENTS: BitTable = {
    0: Alarm.CHARGE_OVERTEMPERATURE,
    1: Alarm.CHARGE_OVERTEMPERATURE,
    2: Alarm.CHARGE_UNDERTEMPERATURE,
    3: Alarm.CHARGE_UNDERTEMPERATURE,
    4: Alarm.DISCHARGE_OVERTEMPERATURE,
    5: Alarm.DISCHARGE_OVERTEMPERATURE,
    6: Alarm.DISCHARGE_UNDERTEMPERATURE,
    7: Alarm.DISCHARGE_UNDERTEMPERATURE,
}
# Discharge FET, charge FET and heater bits of the V2 "on-off state" and the
# V3 TB07 FET event code.
FET_DISCHARGE = 0x01
FET_CHARGE = 0x02
FET_HEATER = 0x08


def temperature(raw: int) -> float:
    """A temperature in °C from its 0.1 K value."""
    return round((raw - ZERO_CELSIUS) / 10, 1)


def bit_alarms(tables: Iterable[tuple[int, BitTable]]) -> frozenset[Alarm]:
    """The alarms of event bytes, each with its bit table."""
    return frozenset(
        alarm
        for value, table in tables
        for bit, alarm in table.items()
        if value >> bit & 1
    )


def supported(*tables: BitTable) -> frozenset[Alarm]:
    """Every alarm the tables can raise."""
    return frozenset(alarm for table in tables for alarm in table.values())


def cells_of(*masks: int) -> frozenset[int]:
    """Cell numbers (from 1) of per-cell bit masks, eight cells a byte."""
    return frozenset(
        8 * index + bit + 1
        for index, mask in enumerate(masks)
        for bit in range(8)
        if mask >> bit & 1
    )


@dataclass(frozen=True, slots=True)
class SeplosStatus:
    """The state bits of one reading: alarms, MOSFETs, heater, balancing."""

    alarms: frozenset[Alarm]
    fets: int
    balancing_cells: frozenset[int]
    protection_code: int

    @property
    def charge_fet(self) -> bool:
        """Whether the charge MOSFET conducts."""
        return bool(self.fets & FET_CHARGE)

    @property
    def discharge_fet(self) -> bool:
        """Whether the discharge MOSFET conducts."""
        return bool(self.fets & FET_DISCHARGE)


@dataclass(frozen=True, slots=True, kw_only=True)
class SeplosMeasurement:
    """The analog values of one reading."""

    voltage: float
    current: float
    cell_voltages: tuple[float, ...]
    cell_temperatures: tuple[float, ...]
    ambient_temperature: float
    mosfet_temperature: float
    remaining_capacity: float
    full_capacity: float
    design_capacity: float | None
    state_of_charge: float
    state_of_health: float | None
    cycles: int
    reported_cell_count: int | None = None


def snapshot(
    measurement: SeplosMeasurement,
    status: SeplosStatus,
    supported_alarms: frozenset[Alarm],
) -> BatterySnapshot:
    """The battery snapshot of one reading (Seplos switches nothing here)."""
    temperatures = (
        *(Temperature(TemperatureKind.CELL, t) for t in measurement.cell_temperatures),
        Temperature(TemperatureKind.AMBIENT, measurement.ambient_temperature),
        Temperature(TemperatureKind.MOSFET, measurement.mosfet_temperature),
    )
    return BatterySnapshot(
        voltage=measurement.voltage,
        current=measurement.current,
        cell_voltages=measurement.cell_voltages,
        temperatures=temperatures,
        state_of_charge=measurement.state_of_charge,
        state_of_health=measurement.state_of_health,
        remaining_capacity=measurement.remaining_capacity,
        full_capacity=measurement.full_capacity,
        design_capacity=measurement.design_capacity,
        cycles=measurement.cycles,
        balancing=bool(status.balancing_cells),
        balancing_cells=status.balancing_cells,
        charge_mosfet=status.charge_fet,
        discharge_mosfet=status.discharge_fet,
        heater=bool(status.fets & FET_HEATER),
        alarms=status.alarms,
        supported_alarms=supported_alarms,
        protection_code=status.protection_code,
        reported_cell_count=measurement.reported_cell_count,
    )
