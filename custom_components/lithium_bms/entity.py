"""Base entity of the Lithium BMS integration."""

from __future__ import annotations

from homeassistant.helpers.device_registry import CONNECTION_BLUETOOTH, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import LithiumBmsCoordinator


class LithiumBmsEntity(CoordinatorEntity[LithiumBmsCoordinator]):
    """An entity of one BMS device, keyed ``<address>_<key>``."""

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
        address = coordinator.address
        self._attr_unique_id = f"{address}_{key or description.key}"
        info = coordinator.device_info
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, address)},
            connections={(CONNECTION_BLUETOOTH, address)},
            name=coordinator.config_entry.title,
            manufacturer=info.manufacturer if info else None,
            model=info.model if info else None,
            hw_version=info.hw_version if info else None,
            sw_version=info.sw_version if info else None,
            serial_number=info.serial_number if info else None,
        )
