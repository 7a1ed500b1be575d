"""Binary sensors: current, balancing, MOSFETs, protection alarms and pack health."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CURRENT_DEADBAND, DOMAIN
from .coordinator import LithiumBmsCoordinator
from .entity import LithiumBmsEntity, TrackerEntity, pack_unique_id
from .kind import KindConfigEntry, async_add_entry_entities
from .protocol.snapshot import Alarm, BatterySnapshot
from .tracker import PackTracker

PARALLEL_UPDATES = 0
# The BMS-level problem sensor; removed where the BMS reports no protection state.
PROBLEM_KEY = "problem"


@dataclass(frozen=True, kw_only=True)
class BmsBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor computed from the snapshot."""

    value_fn: Callable[[BatterySnapshot], bool | None]


STATE_SENSORS: tuple[BmsBinarySensorDescription, ...] = (
    BmsBinarySensorDescription(
        key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        value_fn=lambda s: s.current > CURRENT_DEADBAND if s.measures_current else None,
    ),
    BmsBinarySensorDescription(
        key="discharging",
        translation_key="discharging",
        value_fn=lambda s: (
            s.current < -CURRENT_DEADBAND if s.measures_current else None
        ),
    ),
    BmsBinarySensorDescription(
        key="balancing",
        translation_key="balancing",
        device_class=BinarySensorDeviceClass.RUNNING,
        value_fn=lambda s: s.balancing,
    ),
    BmsBinarySensorDescription(
        key=PROBLEM_KEY,
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda s: s.problem,
    ),
    BmsBinarySensorDescription(
        key="charge_mosfet_active",
        translation_key="charge_mosfet_active",
        device_class=BinarySensorDeviceClass.POWER,
        value_fn=lambda s: s.charge_mosfet,
    ),
    BmsBinarySensorDescription(
        key="discharge_mosfet_active",
        translation_key="discharge_mosfet_active",
        device_class=BinarySensorDeviceClass.POWER,
        value_fn=lambda s: s.discharge_mosfet,
    ),
    BmsBinarySensorDescription(
        key="heater",
        translation_key="heater",
        device_class=BinarySensorDeviceClass.HEAT,
        value_fn=lambda s: s.heater,
    ),
    BmsBinarySensorDescription(
        key="charge_enabled",
        translation_key="charge_enabled",
        value_fn=lambda s: s.charge_enabled,
    ),
    BmsBinarySensorDescription(
        key="discharge_enabled",
        translation_key="discharge_enabled",
        value_fn=lambda s: s.discharge_enabled,
    ),
    BmsBinarySensorDescription(
        key="force_charge",
        translation_key="force_charge",
        value_fn=lambda s: s.force_charge,
    ),
    BmsBinarySensorDescription(
        key="full_charge_request",
        translation_key="full_charge_request",
        value_fn=lambda s: s.full_charge_request,
    ),
)


CELL_IMBALANCE = BinarySensorEntityDescription(
    key="cell_imbalance",
    translation_key="cell_imbalance",
    device_class=BinarySensorDeviceClass.PROBLEM,
)


@dataclass(frozen=True, kw_only=True)
class HealthBinarySensorDescription(BinarySensorEntityDescription):
    """A pack health verdict of the tracker."""

    is_on_fn: Callable[[PackTracker], bool | None]
    attributes_fn: Callable[[PackTracker], Mapping[str, Any]]
    # Whether the first snapshot has what the verdict is computed from.
    exists_fn: Callable[[BatterySnapshot], bool]


def _weak_cell(tracker: PackTracker) -> bool | None:
    resistance = tracker.health.resistance
    return resistance.weak_cell is not None if resistance.known else None


def _projected_temperature(tracker: PackTracker) -> dict[str, Any]:
    projected = tracker.health.projected_temperature
    return {"projected_temperature": None if projected is None else round(projected, 1)}


HEALTH_SENSORS: tuple[HealthBinarySensorDescription, ...] = (
    HealthBinarySensorDescription(
        key="weak_cell",
        translation_key="weak_cell",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=_weak_cell,
        attributes_fn=lambda t: {"cell": t.health.resistance.weak_cell},
        exists_fn=lambda s: s.measures_current and len(s.cell_voltages) > 1,
    ),
    HealthBinarySensorDescription(
        key="mosfet_overheating_risk",
        translation_key="mosfet_overheating_risk",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda t: t.health.overheating_risk,
        attributes_fn=_projected_temperature,
        exists_fn=lambda s: s.measures_current and s.mosfet_temperature is not None,
    ),
)


def _alarm(alarm: Alarm) -> BmsBinarySensorDescription:
    return BmsBinarySensorDescription(
        key=alarm.value,
        translation_key=alarm.value,
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: alarm in s.alarms,
    )


def binary_sensor_descriptions(
    snapshot: BatterySnapshot,
) -> list[BmsBinarySensorDescription]:
    """Every binary sensor the first snapshot shows the BMS supports."""
    found = [d for d in STATE_SENSORS if d.value_fn(snapshot) is not None]
    found += [_alarm(a) for a in Alarm if a in snapshot.supported_alarms]
    return found


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KindConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the binary sensors of the entry (a BMS or a bank)."""
    async_add_entry_entities(entry, Platform.BINARY_SENSOR, async_add_entities)


def pack_binary_sensors(coordinator: LithiumBmsCoordinator) -> list[BinarySensorEntity]:
    """The binary sensors the BMS reports."""
    if coordinator.data.problem is None:
        _forget_problem_sensor(coordinator)
    entities: list[BinarySensorEntity] = [
        BmsBinarySensor(coordinator, d)
        for d in binary_sensor_descriptions(coordinator.data)
    ]
    if coordinator.data.cell_voltages:
        entities.append(CellImbalanceSensor(coordinator, CELL_IMBALANCE))
    entities += [
        HealthBinarySensor(coordinator, d)
        for d in HEALTH_SENSORS
        if d.exists_fn(coordinator.data)
    ]
    return entities


def _forget_problem_sensor(coordinator: LithiumBmsCoordinator) -> None:
    """Remove the problem sensor of a BMS that reports no protection state.

    Earlier versions made it for every BMS, and there it only ever showed off.
    """
    registry = er.async_get(coordinator.hass)
    unique_id = pack_unique_id(coordinator.pack.key, PROBLEM_KEY)
    entity_id = registry.async_get_entity_id(Platform.BINARY_SENSOR, DOMAIN, unique_id)
    if entity_id is not None:
        registry.async_remove(entity_id)


class BmsBinarySensor(LithiumBmsEntity, BinarySensorEntity):
    """A state read from the snapshot."""

    entity_description: BmsBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The state in the newest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data)


class CellImbalanceSensor(TrackerEntity, BinarySensorEntity):
    """Cells spread wider than the chemistry allows, away from empty and full."""

    @property
    def is_on(self) -> bool | None:
        """The tracker's verdict on the newest reading."""
        return self.coordinator.tracker.imbalance


class HealthBinarySensor(TrackerEntity, BinarySensorEntity):
    """A pack health verdict: unknown until enough data supports it."""

    entity_description: HealthBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The tracker's verdict."""
        return self.entity_description.is_on_fn(self.coordinator.tracker)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """What the verdict names."""
        return self.entity_description.attributes_fn(self.coordinator.tracker)
