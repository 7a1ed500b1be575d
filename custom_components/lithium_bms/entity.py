"""Base entities of the Lithium BMS integration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import (
    CoordinatorEntity,
    DataUpdateCoordinator,
)

from .coordinator import LithiumBmsCoordinator
from .protocol.snapshot import SwitchKind


class ChangedOnlyEntity[C: DataUpdateCoordinator[Any]](CoordinatorEntity[C]):
    """Writes its state only when what it shows changed.

    An update that repeats the state would still cost a state write (a
    ``state_reported`` event) per entity and update.
    """

    _shown: object = None

    def _showing(self) -> object:
        """What a state write would show: availability, state and attributes."""
        if not self.available:
            return None
        return (self.state, self.extra_state_attributes)

    async def async_added_to_hass(self) -> None:
        """Remember what the first write shows."""
        await super().async_added_to_hass()
        self._shown = self._showing()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state if it changed."""
        showing = self._showing()
        if showing != self._shown:
            self._shown = showing
            self.async_write_ha_state()


def pack_unique_id(pack_key: str, key: str) -> str:
    """The unique id of a pack's entity ``key``: ``<pack key>_<key>``."""
    return f"{pack_key}_{key}"


class LithiumBmsEntity(ChangedOnlyEntity[LithiumBmsCoordinator]):
    """An entity of one BMS device, keyed ``<pack key>_<key>``."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: LithiumBmsCoordinator,
        description: EntityDescription,
        key: str | None = None,
    ) -> None:
        """Bind the entity to its device and description."""
        super().__init__(coordinator)
        self.entity_description = description
        pack = coordinator.pack
        self.entity_key = key or description.key
        self._attr_unique_id = pack_unique_id(pack.key, self.entity_key)
        info = coordinator.device_info
        self._attr_device_info = DeviceInfo(
            **pack.device_info(),
            manufacturer=info.manufacturer if info else None,
            model=info.model if info else None,
            hw_version=info.hw_version if info else None,
            sw_version=info.sw_version if info else None,
            serial_number=info.serial_number if info else None,
        )


class TrackerEntity(LithiumBmsEntity):
    """An entity computed by the pack tracker: updated when the tracker is."""

    async def async_added_to_hass(self) -> None:
        """Also follow the tracker, which moves when the reading repeats."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.tracker.async_add_listener(self._handle_coordinator_update)
        )


class _SwitchState(Protocol):
    @property
    def switches(self) -> Mapping[SwitchKind, bool | None]: ...


class _SwitchCoordinator(Protocol):
    @property
    def data(self) -> _SwitchState: ...

    async def async_set_switch(self, kind: SwitchKind, on: bool) -> None: ...


class ConfirmedSwitch[C: _SwitchCoordinator](CoordinatorEntity[C], SwitchEntity):  # type: ignore[type-var]
    """A switch whose state is only ever what was read back (BMS or bank)."""

    @property
    def _kind(self) -> SwitchKind:
        return SwitchKind(self.entity_description.key)

    @property
    def is_on(self) -> bool | None:
        """The state read back (None while unknown)."""
        return self.coordinator.data.switches.get(self._kind)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on; returns once a read-back confirms it."""
        await self.coordinator.async_set_switch(self._kind, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off; returns once a read-back confirms it."""
        await self.coordinator.async_set_switch(self._kind, False)
