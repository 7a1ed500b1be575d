"""Entities of a battery bank: the packs as one battery."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.components.switch import SwitchEntityDescription
from homeassistant.const import (
    PERCENTAGE,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .bank_coordinator import BankCoordinator, BankState
from .const import DOMAIN
from .entity import ConfirmedSwitch
from .protocol.snapshot import SwitchKind


class BankEntity(CoordinatorEntity[BankCoordinator]):
    """An entity of the bank device, keyed ``bank_<entry id>_<key>``."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: BankCoordinator, description: EntityDescription
    ) -> None:
        """Bind the entity to the bank device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"bank_{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"bank_{entry.entry_id}")},
            name=entry.title,
            manufacturer="Lithium BMS",
            model=f"Battery bank ({coordinator.wiring.value})",
        )

    @property
    def _complete(self) -> bool:
        """Whether every member is available."""
        reading = self.coordinator.data.reading
        return reading.available == reading.members


@dataclass(frozen=True, kw_only=True)
class BankSensorDescription(SensorEntityDescription):
    """A bank value; ``member_fn`` names the pack an extreme comes from."""

    value_fn: Callable[[BankState], StateType]
    member_fn: Callable[[BankState], int | None] | None = None


def _electric(  # noqa: PLR0917
    key: str,
    device_class: SensorDeviceClass,
    unit: str,
    precision: int,
    fn: Callable[[BankState], StateType],
    member_fn: Callable[[BankState], int | None] | None = None,
) -> BankSensorDescription:
    return BankSensorDescription(
        key=key,
        translation_key=None if key in ("voltage", "current", "power") else key,
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=precision,
        value_fn=fn,
        member_fn=member_fn,
    )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


BANK_SENSORS: tuple[BankSensorDescription, ...] = (
    _electric(
        "voltage",
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        2,
        lambda s: _round(s.reading.voltage, 3),
    ),
    _electric(
        "current",
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        2,
        lambda s: _round(s.reading.current, 3),
    ),
    _electric(
        "power",
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        0,
        lambda s: _round(s.reading.power, 2),
    ),
    BankSensorDescription(
        key="state_of_charge",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: _round(s.reading.state_of_charge, 2),
    ),
    BankSensorDescription(
        key="remaining_capacity",
        translation_key="remaining_capacity",
        native_unit_of_measurement="Ah",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda s: _round(s.reading.remaining_capacity, 3),
    ),
    BankSensorDescription(
        key="full_capacity",
        translation_key="full_capacity",
        native_unit_of_measurement="Ah",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda s: _round(s.reading.full_capacity, 3),
    ),
    _electric(
        "cell_voltage_min",
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        3,
        lambda s: s.reading.cell_voltage_min,
        lambda s: s.reading.cell_voltage_min_member,
    ),
    _electric(
        "cell_voltage_max",
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        3,
        lambda s: s.reading.cell_voltage_max,
        lambda s: s.reading.cell_voltage_max_member,
    ),
)

BANK_ENERGY: tuple[BankSensorDescription, ...] = tuple(
    BankSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        value_fn=fn,
    )
    for key, fn in (
        ("charge_energy", lambda s: _round(s.charge_energy, 6)),
        ("discharge_energy", lambda s: _round(s.discharge_energy, 6)),
    )
)


class BankSensor(BankEntity, SensorEntity):
    """A value of the whole bank; unavailable while any member is."""

    entity_description: BankSensorDescription

    @property
    def available(self) -> bool:
        """A partial sum or mean would be a wrong value: need every member.

        A value the members cannot settle (a member without current sensor, a
        capacity one of them does not report) is unavailable too.
        """
        return super().available and self._complete and self.native_value is not None

    @property
    def native_value(self) -> StateType:
        """The aggregate value."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """For cell extremes, the pack the cell belongs to."""
        member_fn = self.entity_description.member_fn
        if member_fn is None:
            return None
        index = member_fn(self.coordinator.data)
        if index is None:
            return None
        return {"member": self.coordinator.data.member_names[index]}


class BankEnergySensor(BankSensor):
    """The members' energy counters, kept by the bank so they never go down."""

    @property
    def available(self) -> bool:
        """Known once every member was seen, also while some are away."""
        return self.native_value is not None and super(BankSensor, self).available


BANK_PROBLEM = BinarySensorEntityDescription(
    key="problem", device_class=BinarySensorDeviceClass.PROBLEM
)


class BankProblemSensor(BankEntity, BinarySensorEntity):
    """Any member reports a protection or fault (also while others are away)."""

    @property
    def available(self) -> bool:
        """Known as soon as one available member settles it."""
        return super().available and self.coordinator.data.reading.any_alarm is not None

    @property
    def is_on(self) -> bool | None:
        """Whether any member has a problem."""
        return self.coordinator.data.reading.any_alarm


BANK_SWITCHES = tuple(
    SwitchEntityDescription(key=kind.value, translation_key=kind.value)
    for kind in (SwitchKind.CHARGE, SwitchKind.DISCHARGE)
)


class BankSwitch(BankEntity, ConfirmedSwitch[BankCoordinator]):
    """Switches every member; on only when every member reports on."""


def bank_sensors(coordinator: BankCoordinator) -> list[SensorEntity]:
    """Every sensor of a bank."""
    return [
        *(BankSensor(coordinator, d) for d in BANK_SENSORS),
        *(BankEnergySensor(coordinator, d) for d in BANK_ENERGY),
    ]
