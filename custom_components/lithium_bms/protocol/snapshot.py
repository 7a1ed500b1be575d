"""The typed battery snapshot every driver produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class TemperatureKind(StrEnum):
    """Where a temperature probe sits."""

    CELL = "cell"
    MOSFET = "mosfet"
    AMBIENT = "ambient"


class Alarm(StrEnum):
    """A named protection or fault condition.

    The values are the public keys of the alarm binary sensors.
    """

    CELL_OVERVOLTAGE = "cell_overvoltage"
    CELL_UNDERVOLTAGE = "cell_undervoltage"
    PACK_OVERVOLTAGE = "pack_overvoltage"
    PACK_UNDERVOLTAGE = "pack_undervoltage"
    CHARGE_OVERTEMPERATURE = "charge_overtemperature"
    CHARGE_UNDERTEMPERATURE = "charge_undertemperature"
    DISCHARGE_OVERTEMPERATURE = "discharge_overtemperature"
    DISCHARGE_UNDERTEMPERATURE = "discharge_undertemperature"
    CHARGE_OVERCURRENT = "charge_overcurrent"
    DISCHARGE_OVERCURRENT = "discharge_overcurrent"
    SHORT_CIRCUIT = "short_circuit"
    FRONTEND_ERROR = "frontend_error"
    MOSFET_LOCK = "mosfet_lock"
    # Family-specific conditions (JK, Daly).
    MOSFET_OVERTEMPERATURE = "mosfet_overtemperature"
    WIRE_RESISTANCE = "wire_resistance"
    CELL_COUNT_MISMATCH = "cell_count_mismatch"
    COPROCESSOR_ERROR = "coprocessor_error"
    MOSFET_FAULT = "mosfet_fault"
    TEMPERATURE_SENSOR_FAULT = "temperature_sensor_fault"
    CELL_VOLTAGE_DIFFERENCE = "cell_voltage_difference"
    TEMPERATURE_DIFFERENCE = "temperature_difference"
    SOC_LOW = "soc_low"
    SOC_HIGH = "soc_high"
    HARDWARE_FAULT = "hardware_fault"


# Conditions that are states rather than faults: they do not raise ``problem``.
NOT_A_PROBLEM: frozenset[Alarm] = frozenset({Alarm.MOSFET_LOCK})


class SwitchKind(StrEnum):
    """A switch the BMS lets a host control."""

    CHARGE = "charge_mosfet"
    DISCHARGE = "discharge_mosfet"
    BALANCER = "balancer"


@dataclass(frozen=True, slots=True)
class Temperature:
    """One temperature probe; ``value`` is None while the probe is disconnected."""

    kind: TemperatureKind
    value: float | None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the BMS says about itself."""

    manufacturer: str
    model: str | None = None
    hw_version: str | None = None
    sw_version: str | None = None
    serial_number: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BatterySnapshot:
    """One consistent reading of a battery.

    Units: volts, amperes (positive while charging), ampere-hours, percent,
    degrees Celsius. A field is None when the BMS does not report it.
    """

    voltage: float
    current: float
    cell_voltages: tuple[float, ...] = ()
    temperatures: tuple[Temperature, ...] = ()
    state_of_charge: float | None = None
    state_of_health: float | None = None
    remaining_capacity: float | None = None
    full_capacity: float | None = None
    design_capacity: float | None = None
    cycles: int | None = None
    balancing: bool | None = None
    balancing_cells: frozenset[int] | None = None
    balance_current: float | None = None
    charge_mosfet: bool | None = None
    discharge_mosfet: bool | None = None
    heater: bool | None = None
    switches: dict[SwitchKind, bool | None] = field(default_factory=dict)
    alarms: frozenset[Alarm] = frozenset()
    supported_alarms: frozenset[Alarm] = frozenset()
    protection_code: int | None = None
    cell_resistances: tuple[float, ...] = ()
    # False for a BMS without a current sensor (JK04 balancers): ``current``
    # is then a placeholder 0.0 and nothing derived from it may be shown.
    measures_current: bool = True
    # The cell count the frame itself states, where it states one; the
    # plausibility gate checks it against ``cell_voltages``.
    reported_cell_count: int | None = None
    # What a battery tells its inverter on the CAN bus (Pylontech CAN
    # protocol): the limits it obeys (V, A), what it allows and asks, and
    # the manufacturer name it broadcasts.
    charge_voltage_limit: float | None = None
    discharge_voltage_limit: float | None = None
    charge_current_limit: float | None = None
    discharge_current_limit: float | None = None
    charge_enabled: bool | None = None
    discharge_enabled: bool | None = None
    force_charge: bool | None = None
    full_charge_request: bool | None = None
    manufacturer_name: str | None = None

    @property
    def power(self) -> float:
        """Power in watts, positive while charging."""
        return self.voltage * self.current

    @property
    def problem(self) -> bool | None:
        """Whether any protection or fault is active; None if the BMS reports none.

        The named alarms decide where the BMS has them (a code beside them may
        hold states). A protection word with no public bit table flags a
        problem while it is not zero, as the sources' "problem code" does.
        """
        if self.supported_alarms or self.alarms:
            return bool(self.alarms - NOT_A_PROBLEM)
        if self.protection_code is not None:
            return self.protection_code != 0
        return None

    @property
    def cell_voltage_min(self) -> float | None:
        """Lowest cell voltage."""
        return min(self.cell_voltages) if self.cell_voltages else None

    @property
    def cell_voltage_max(self) -> float | None:
        """Highest cell voltage."""
        return max(self.cell_voltages) if self.cell_voltages else None

    @property
    def cell_voltage_delta(self) -> float | None:
        """Spread between the highest and lowest cell, in volts."""
        if not self.cell_voltages:
            return None
        return round(max(self.cell_voltages) - min(self.cell_voltages), 4)

    @property
    def cell_voltage_average(self) -> float | None:
        """Mean cell voltage."""
        if not self.cell_voltages:
            return None
        return round(sum(self.cell_voltages) / len(self.cell_voltages), 4)

    @property
    def probe_temperatures(self) -> tuple[Temperature, ...]:
        """Every probe that is not on a MOSFET, in BMS order."""
        return tuple(t for t in self.temperatures if t.kind != TemperatureKind.MOSFET)

    @property
    def mosfet_temperature(self) -> float | None:
        """Temperature of the MOSFET probe, if the BMS has one."""
        for probe in self.temperatures:
            if probe.kind == TemperatureKind.MOSFET:
                return probe.value
        return None

    @property
    def runtime(self) -> float | None:
        """Seconds until empty at the present discharge current, else None."""
        if self.current >= 0 or self.remaining_capacity is None:
            return None
        return self.remaining_capacity / -self.current * 3600
