"""The Lithium BMS integration: lithium battery BMS units over Bluetooth LE."""

from __future__ import annotations

from bleak_retry_connector import close_stale_connections_by_address
from homeassistant.components import bluetooth
from homeassistant.const import CONF_ADDRESS, EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .connection import build_client
from .const import (
    CONF_FAMILY,
    CONF_UPDATE_INTERVAL,
    CONF_VARIANT,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
)
from .coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator, LithiumBmsData
from .tracker import PackTracker, thresholds_from_options

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR, Platform.SWITCH]


async def async_setup_entry(hass: HomeAssistant, entry: LithiumBmsConfigEntry) -> bool:
    """Connect to the BMS and set up its entities."""
    address: str = entry.data[CONF_ADDRESS]
    if not bluetooth.async_ble_device_from_address(hass, address, connectable=True):
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="device_not_found",
            translation_placeholders={"address": address},
        )
    await close_stale_connections_by_address(address)

    client = build_client(
        hass,
        address,
        entry.data[CONF_FAMILY],
        entry.options,
        entry.data.get(CONF_VARIANT),
    )
    tracker = PackTracker(
        hass,
        entry.entry_id,
        thresholds_from_options(entry.options),
        entry.options.get(CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL),
    )
    coordinator = LithiumBmsCoordinator(hass, entry, client, tracker)
    entry.async_on_unload(coordinator.async_shutdown)

    async def _on_stop(_: Event) -> None:
        await client.close()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _on_stop)
    )
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = LithiumBmsData(coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LithiumBmsConfigEntry) -> bool:
    """Unload the entities and disconnect."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: LithiumBmsConfigEntry) -> None:
    """Delete the saved energy totals and SOC estimate of a removed BMS."""
    tracker = PackTracker(hass, entry.entry_id, thresholds_from_options({}), 1)
    await tracker.async_remove()
