"""Sensors: pack, cells, temperatures, capacity, link quality and pack health."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    Platform,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .analytics.standby import charge_level
from .coordinator import LithiumBmsCoordinator
from .entity import LithiumBmsEntity, TrackerEntity
from .kind import KindConfigEntry, async_add_entry_entities
from .protocol.snapshot import BatterySnapshot
from .tracker import PackTracker

PARALLEL_UPDATES = 0

UNIT_AMPERE_HOURS = "Ah"
UNIT_OHM = "Ω"
UNIT_MILLIOHM = "mΩ"
# Cell-level voltages are shown, and recorded, in millivolts: a finer value
# (an average of cells) would make a new state without a visible change.
MILLIVOLT_DIGITS = 3
# The runtime is shown in hours to a tenth: it is stored in steps of that.
RUNTIME_STEP = 360


@dataclass(frozen=True, kw_only=True)
class BmsSensorDescription(SensorEntityDescription):
    """A sensor computed from the snapshot."""

    value_fn: Callable[[BatterySnapshot], StateType]


def _millivolts(value: float | None) -> float | None:
    return None if value is None else round(value, MILLIVOLT_DIGITS)


def _voltage(
    key: str, fn: Callable[[BatterySnapshot], float | None]
) -> BmsSensorDescription:
    return BmsSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=MILLIVOLT_DIGITS,
        value_fn=lambda s: _millivolts(fn(s)),
    )


def _capacity(
    key: str,
    fn: Callable[[BatterySnapshot], StateType],
    category: EntityCategory | None = None,
) -> BmsSensorDescription:
    return BmsSensorDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=UNIT_AMPERE_HOURS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        entity_category=category,
        value_fn=fn,
    )


def _current_limit(
    key: str, fn: Callable[[BatterySnapshot], StateType]
) -> BmsSensorDescription:
    return BmsSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=fn,
    )


PACK_SENSORS: tuple[BmsSensorDescription, ...] = (
    BmsSensorDescription(
        key="voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda s: s.voltage,
    ),
    BmsSensorDescription(
        key="current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda s: s.current,
    ),
    BmsSensorDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: round(s.power, 2),
    ),
    BmsSensorDescription(
        key="state_of_charge",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.state_of_charge,
    ),
    BmsSensorDescription(
        key="state_of_health",
        translation_key="state_of_health",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.state_of_health,
    ),
    _capacity("remaining_capacity", lambda s: s.remaining_capacity),
    _capacity("full_capacity", lambda s: s.full_capacity),
    _capacity(
        "design_capacity",
        lambda s: s.design_capacity,
        EntityCategory.DIAGNOSTIC,
    ),
    BmsSensorDescription(
        key="cycles",
        translation_key="cycles",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda s: s.cycles,
    ),
    BmsSensorDescription(
        key="mosfet_temperature",
        translation_key="mosfet_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda s: s.mosfet_temperature,
    ),
    _voltage("cell_voltage_min", lambda s: s.cell_voltage_min),
    _voltage("cell_voltage_max", lambda s: s.cell_voltage_max),
    _voltage("cell_voltage_delta", lambda s: s.cell_voltage_delta),
    _voltage("cell_voltage_average", lambda s: s.cell_voltage_average),
    BmsSensorDescription(
        key="balance_current",
        translation_key="balance_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.balance_current,
    ),
    _voltage("charge_voltage_limit", lambda s: s.charge_voltage_limit),
    _voltage("discharge_voltage_limit", lambda s: s.discharge_voltage_limit),
    _current_limit("charge_current_limit", lambda s: s.charge_current_limit),
    _current_limit("discharge_current_limit", lambda s: s.discharge_current_limit),
    BmsSensorDescription(
        key="manufacturer_name",
        translation_key="manufacturer_name",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.manufacturer_name,
    ),
    BmsSensorDescription(
        key="runtime",
        translation_key="runtime",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: (
            None
            if s.runtime is None
            else RUNTIME_STEP * round(s.runtime / RUNTIME_STEP)
        ),
    ),
)

# A pack sensor is created when the first snapshot reports it; runtime is
# created with the current and remaining capacity it is computed from.
ALWAYS_CREATED = frozenset({"runtime"})
# Shown only when the BMS measures the current.
FROM_CURRENT = frozenset({"current", "power", "runtime"})


def _cell_voltage(index: int) -> BmsSensorDescription:
    return BmsSensorDescription(
        key=f"cell_voltage_{index + 1}",
        translation_key="cell_voltage_n",
        translation_placeholders={"index": str(index + 1)},
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=MILLIVOLT_DIGITS,
        value_fn=lambda s: (
            _millivolts(s.cell_voltages[index])
            if index < len(s.cell_voltages)
            else None
        ),
    )


def _cell_resistance(index: int) -> BmsSensorDescription:
    return BmsSensorDescription(
        key=f"cell_resistance_{index + 1}",
        translation_key="cell_resistance_n",
        translation_placeholders={"index": str(index + 1)},
        native_unit_of_measurement=UNIT_OHM,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda s: (
            s.cell_resistances[index] if index < len(s.cell_resistances) else None
        ),
    )


def _temperature(index: int) -> BmsSensorDescription:
    def value(s: BatterySnapshot) -> StateType:
        probes = s.probe_temperatures
        return probes[index].value if index < len(probes) else None

    return BmsSensorDescription(
        key=f"temperature_{index + 1}",
        translation_key="temperature_n",
        translation_placeholders={"index": str(index + 1)},
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=value,
    )


@dataclass(frozen=True, kw_only=True)
class TrackerSensorDescription(SensorEntityDescription):
    """A sensor computed by the pack tracker (energy, SOC estimate)."""

    value_fn: Callable[[PackTracker], StateType]


@dataclass(frozen=True, kw_only=True)
class HealthSensorDescription(TrackerSensorDescription):
    """A pack health value of the tracker, with what it rests on."""

    attributes_fn: Callable[[PackTracker], Mapping[str, Any] | None] = lambda _: None
    # Whether the first snapshot has what the value is computed from.
    exists_fn: Callable[[BatterySnapshot], bool] = lambda _: True


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


TRACKER_SENSORS: tuple[TrackerSensorDescription, ...] = (
    TrackerSensorDescription(
        key="charge_energy",
        translation_key="charge_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        value_fn=lambda t: round(t.energy.charge_energy, 6),
    ),
    TrackerSensorDescription(
        key="discharge_energy",
        translation_key="discharge_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        value_fn=lambda t: round(t.energy.discharge_energy, 6),
    ),
    TrackerSensorDescription(
        key="estimated_state_of_charge",
        translation_key="estimated_state_of_charge",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda t: _rounded(t.soc.state_of_charge, 2),
    ),
    TrackerSensorDescription(
        key="state_of_charge_drift",
        translation_key="state_of_charge_drift",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        # It moves with every update the BMS's own SOC does not follow.
        entity_registry_enabled_default=False,
        value_fn=lambda t: _rounded(t.soc.drift, 2),
    ),
)


def _knee_leader(tracker: PackTracker) -> int | None:
    leader = tracker.health.knee.leader
    return None if leader is None else leader.cell


def _knee_attributes(tracker: PackTracker) -> dict[str, Any]:
    leader = tracker.health.knee.leader
    return {
        "times_first": None if leader is None else leader.times,
        "knees_seen": len(tracker.health.knee.events),
    }


def _standby_attributes(tracker: PackTracker) -> dict[str, Any]:
    return {"drain_per_day": _rounded(tracker.health.standby.drain, 3)}


HEALTH_SENSORS: tuple[HealthSensorDescription, ...] = (
    HealthSensorDescription(
        key="standby_days_until_empty",
        translation_key="standby_days_until_empty",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.DAYS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda t: _rounded(t.health.standby.days_until_empty, 1),
        attributes_fn=_standby_attributes,
        exists_fn=lambda s: charge_level(s) is not None,
    ),
    HealthSensorDescription(
        key="first_cell_at_knee",
        translation_key="first_cell_at_knee",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_knee_leader,
        attributes_fn=_knee_attributes,
        exists_fn=lambda s: len(s.cell_voltages) > 1,
    ),
)


def _estimated_resistance(index: int) -> HealthSensorDescription:
    def value(tracker: PackTracker) -> float | None:
        estimates = tracker.health.resistance.resistances
        estimate = estimates[index] if index < len(estimates) else None
        return _rounded(None if estimate is None else estimate * 1000, 3)

    return HealthSensorDescription(
        key=f"estimated_cell_resistance_{index + 1}",
        translation_key="estimated_cell_resistance_n",
        translation_placeholders={"index": str(index + 1)},
        native_unit_of_measurement=UNIT_MILLIOHM,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=value,
    )


def health_sensor_descriptions(
    snapshot: BatterySnapshot,
) -> list[HealthSensorDescription]:
    """The health sensors computed from what the first snapshot has."""
    if not snapshot.measures_current:
        return []
    found = [d for d in HEALTH_SENSORS if d.exists_fn(snapshot)]
    if len(snapshot.cell_voltages) > 1:
        found += [_estimated_resistance(i) for i in range(len(snapshot.cell_voltages))]
    return found


RSSI_SENSOR = SensorEntityDescription(
    key="rssi",
    translation_key="rssi",
    device_class=SensorDeviceClass.SIGNAL_STRENGTH,
    native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    state_class=SensorStateClass.MEASUREMENT,
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
)


def sensor_descriptions(snapshot: BatterySnapshot) -> list[BmsSensorDescription]:
    """Every sensor the first snapshot shows the BMS supports."""
    found = [
        d
        for d in PACK_SENSORS
        if (d.key in ALWAYS_CREATED or d.value_fn(snapshot) is not None)
        and (snapshot.measures_current or d.key not in FROM_CURRENT)
    ]
    found += [_cell_voltage(i) for i in range(len(snapshot.cell_voltages))]
    found += [
        _temperature(i)
        for i, probe in enumerate(snapshot.probe_temperatures)
        if probe.value is not None  # an absent probe slot gets no entity
    ]
    found += [_cell_resistance(i) for i in range(len(snapshot.cell_resistances))]
    return found


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KindConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the sensors of the entry (a BMS or a bank)."""
    async_add_entry_entities(entry, Platform.SENSOR, async_add_entities)


def pack_sensors(coordinator: LithiumBmsCoordinator) -> list[SensorEntity]:
    """The sensors the BMS reports."""
    entities: list[SensorEntity] = [
        BmsSensor(coordinator, d) for d in sensor_descriptions(coordinator.data)
    ]
    if coordinator.data.measures_current:
        entities += [TrackerSensor(coordinator, d) for d in TRACKER_SENSORS]
    entities += [
        HealthSensor(coordinator, d)
        for d in health_sensor_descriptions(coordinator.data)
    ]
    if coordinator.pack.bluetooth:
        entities.append(RssiSensor(coordinator, RSSI_SENSOR))
    return entities


class BmsSensor(LithiumBmsEntity, SensorEntity):
    """A value read from the snapshot."""

    entity_description: BmsSensorDescription

    @property
    def native_value(self) -> StateType:
        """The value of the newest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data)


class TrackerSensor(TrackerEntity, SensorEntity):
    """A value integrated from the readings by the pack tracker."""

    entity_description: TrackerSensorDescription

    @property
    def native_value(self) -> StateType:
        """The tracker's current value."""
        return self.entity_description.value_fn(self.coordinator.tracker)


class HealthSensor(TrackerSensor):
    """A pack health value: unknown until enough data supports it."""

    entity_description: HealthSensorDescription

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """What the value rests on."""
        return self.entity_description.attributes_fn(self.coordinator.tracker)


class RssiSensor(LithiumBmsEntity, SensorEntity):
    """Signal strength of the newest advertisement."""

    @property
    def native_value(self) -> StateType:
        """RSSI of the last advertisement seen by any adapter or proxy."""
        info = bluetooth.async_last_service_info(
            self.hass, self.coordinator.address, connectable=True
        )
        return info.rssi if info else None
