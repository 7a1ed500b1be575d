"""Switches: charge MOSFET, discharge MOSFET and balancer, confirmed by read-back."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import (
    SwitchDeviceClass,
    SwitchEntity,
    SwitchEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bank_coordinator import bank_of
from .bank_entities import BANK_SWITCHES, BankSwitch
from .coordinator import LithiumBmsConfigEntry
from .entity import LithiumBmsEntity
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


class BmsSwitch(LithiumBmsEntity, SwitchEntity):
    """A switch whose state is only ever what the BMS reported."""

    @property
    def _kind(self) -> SwitchKind:
        return SwitchKind(self.entity_description.key)

    @property
    def is_on(self) -> bool | None:
        """The state read from the BMS (None while unknown)."""
        return self.coordinator.data.switches.get(self._kind)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on and confirm."""
        await self.coordinator.async_set_switch(self._kind, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off and confirm."""
        await self.coordinator.async_set_switch(self._kind, False)
