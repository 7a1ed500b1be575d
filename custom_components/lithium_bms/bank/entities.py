"""Entities of a battery bank: the packs as one battery.

Their descriptions are the pack's for the same quantity, with the value read
from the bank.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.typing import StateType

from ..binary_sensor import STATE_SENSORS
from ..entity import ChangedOnlyEntity, ConfirmedSwitch
from ..protocol.snapshot import SwitchKind
from ..sensor import PACK_SENSORS, TRACKER_SENSORS
from ..switch import SWITCHES
from .coordinator import BankCoordinator, BankState


class BankEntity(ChangedOnlyEntity[BankCoordinator]):
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
        self._attr_device_info = coordinator.device

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


@dataclass(frozen=True, kw_only=True)
class BankBinarySensorDescription(BinarySensorEntityDescription):
    """A bank state."""

    value_fn: Callable[[BankState], bool | None]


def _derived[D: EntityDescription](
    kind: type[D], pack: EntityDescription, **bank: Any
) -> D:
    """The pack's description of the same quantity, with the bank's values."""
    fields = {f.name: getattr(pack, f.name) for f in dataclasses.fields(pack)}
    return kind(**(fields | bank))


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


_PACK = {d.key: d for d in (*PACK_SENSORS, *TRACKER_SENSORS)}


def _sensor(
    key: str,
    value_fn: Callable[[BankState], StateType],
    member_fn: Callable[[BankState], int | None] | None = None,
) -> BankSensorDescription:
    return _derived(
        BankSensorDescription, _PACK[key], value_fn=value_fn, member_fn=member_fn
    )


BANK_SENSORS: tuple[BankSensorDescription, ...] = (
    _sensor("voltage", lambda s: _round(s.reading.voltage, 3)),
    _sensor("current", lambda s: _round(s.reading.current, 3)),
    _sensor("power", lambda s: _round(s.reading.power, 2)),
    _sensor("state_of_charge", lambda s: _round(s.reading.state_of_charge, 2)),
    _sensor("remaining_capacity", lambda s: _round(s.reading.remaining_capacity, 3)),
    _sensor("full_capacity", lambda s: _round(s.reading.full_capacity, 3)),
    _sensor(
        "cell_voltage_min",
        lambda s: s.reading.cell_voltage_min,
        lambda s: s.reading.cell_voltage_min_member,
    ),
    _sensor(
        "cell_voltage_max",
        lambda s: s.reading.cell_voltage_max,
        lambda s: s.reading.cell_voltage_max_member,
    ),
)

BANK_ENERGY: tuple[BankSensorDescription, ...] = (
    _sensor("charge_energy", lambda s: _round(s.charge_energy, 6)),
    _sensor("discharge_energy", lambda s: _round(s.discharge_energy, 6)),
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


BANK_PROBLEM = _derived(
    BankBinarySensorDescription,
    next(d for d in STATE_SENSORS if d.key == "problem"),
    value_fn=lambda s: s.reading.any_alarm,
)


class BankProblemSensor(BankEntity, BinarySensorEntity):
    """Any member reports a protection or fault (also while others are away)."""

    entity_description: BankBinarySensorDescription

    @property
    def available(self) -> bool:
        """Known as soon as one available member settles it."""
        return super().available and self.is_on is not None

    @property
    def is_on(self) -> bool | None:
        """Whether any member has a problem."""
        return self.entity_description.value_fn(self.coordinator.data)


BANK_SWITCHES = tuple(
    d for d in SWITCHES if d.key in (SwitchKind.CHARGE, SwitchKind.DISCHARGE)
)


class BankSwitch(BankEntity, ConfirmedSwitch[BankCoordinator]):
    """Switches every member; on only when every member reports on."""


def bank_sensors(coordinator: BankCoordinator) -> list[SensorEntity]:
    """Every sensor of a bank."""
    return [
        *(BankSensor(coordinator, d) for d in BANK_SENSORS),
        *(BankEnergySensor(coordinator, d) for d in BANK_ENERGY),
    ]
