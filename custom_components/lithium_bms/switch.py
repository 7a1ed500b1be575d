"""Switches: charge MOSFET, discharge MOSFET and balancer, confirmed by read-back."""

from __future__ import annotations

from homeassistant.components.switch import (
    SwitchDeviceClass,
    SwitchEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bank_coordinator import bank_of
from .bank_entities import BANK_SWITCHES, BankSwitch
from .coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from .entity import ConfirmedSwitch, LithiumBmsEntity
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
    entry: LithiumBmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a switch for each control this BMS reports (per device, not family)."""
    if (bank := bank_of(entry)) is not None:
        async_add_entities([BankSwitch(bank, d) for d in BANK_SWITCHES])
        return
    coordinator = entry.runtime_data.coordinator
    supported = coordinator.data.switches.keys() & coordinator.client.driver.switches
    async_add_entities(
        BmsSwitch(coordinator, d) for d in SWITCHES if SwitchKind(d.key) in supported
    )


class BmsSwitch(LithiumBmsEntity, ConfirmedSwitch[LithiumBmsCoordinator]):
    """A switch of one BMS."""
