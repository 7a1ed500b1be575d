"""Switches: charge MOSFET, discharge MOSFET and balancer, confirmed by read-back."""

from __future__ import annotations

from homeassistant.components.switch import (
    SwitchDeviceClass,
    SwitchEntity,
    SwitchEntityDescription,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LithiumBmsCoordinator
from .entity import ConfirmedSwitch, LithiumBmsEntity
from .kind import KindConfigEntry, async_add_entry_entities
from .protocol.snapshot import SwitchKind

PARALLEL_UPDATES = 1

SWITCHES: tuple[SwitchEntityDescription, ...] = tuple(
    SwitchEntityDescription(
        key=kind.value,
        translation_key=kind.value,
        device_class=SwitchDeviceClass.SWITCH,
    )
    for kind in SwitchKind
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KindConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the switches of the entry (a BMS or a bank)."""
    async_add_entry_entities(entry, Platform.SWITCH, async_add_entities)


def pack_switches(coordinator: LithiumBmsCoordinator) -> list[SwitchEntity]:
    """A switch for each control this BMS reports (per device, not family)."""
    supported = coordinator.data.switches.keys() & coordinator.client.driver.switches
    return [
        BmsSwitch(coordinator, d) for d in SWITCHES if SwitchKind(d.key) in supported
    ]


class BmsSwitch(LithiumBmsEntity, ConfirmedSwitch[LithiumBmsCoordinator]):
    """A switch of one BMS."""
