"""The Lithium BMS integration: lithium battery BMS units, over Bluetooth or wired."""

from __future__ import annotations

from typing import cast

from bleak_retry_connector import close_stale_connections_by_address
from homeassistant.components import bluetooth
from homeassistant.const import CONF_ADDRESS, EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .bank.coordinator import (
    BankConfigEntry,
    EntryBankCoordinator,
    async_remove_bank_state,
    too_small_issue_id,
)
from .bank.kind import BankData
from .bus.kind import BusConfigEntry
from .bus.removal import async_remove_bus_pack_device, async_remove_bus_state
from .bus.setup import async_setup_bus
from .canbus.setup import async_setup_can
from .card import async_register_card
from .connection import build_client
from .const import (
    CONF_DRIVER_MEMORY,
    CONF_FAMILY,
    CONF_KIND,
    CONF_MEMBERS,
    CONF_VARIANT,
    DOMAIN,
    KIND_BANK,
    KIND_BUS,
    KIND_CAN,
    MIN_BANK_MEMBERS,
)
from .coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from .reported.removal import (
    async_remove_reported_pack_device,
    async_remove_reported_state,
)
from .reported.setup import async_setup_master
from .tracker import (
    PackTracker,
    async_remove_saved_state,
)

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR, Platform.SWITCH]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Serve the battery card and register it with the frontend."""
    await async_register_card(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: LithiumBmsConfigEntry) -> bool:
    """Connect to the BMS (or assemble the bank) and set up its entities."""
    if entry.data.get(CONF_KIND) == KIND_BANK:
        return await _async_setup_bank(hass, cast("BankConfigEntry", entry))
    if entry.data.get(CONF_KIND) == KIND_BUS:
        return await async_setup_bus(hass, entry, PLATFORMS)
    if entry.data.get(CONF_KIND) == KIND_CAN:
        return await async_setup_can(hass, entry, PLATFORMS)
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
        variant=entry.data.get(CONF_VARIANT),
        memory=entry.data.get(CONF_DRIVER_MEMORY),
    )
    tracker = PackTracker.from_options(hass, entry.entry_id, entry.options)
    coordinator = LithiumBmsCoordinator(hass, entry, client, tracker)
    entry.async_on_unload(coordinator.async_shutdown)

    async def _on_stop(_: Event) -> None:
        await client.close()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _on_stop)
    )
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = await async_setup_master(hass, entry, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_setup_bank(hass: HomeAssistant, entry: BankConfigEntry) -> bool:
    """A bank reads its members' coordinators; it has no connection of its own."""
    coordinator = EntryBankCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = BankData(coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LithiumBmsConfigEntry) -> bool:
    """Unload the entities and disconnect."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: LithiumBmsConfigEntry) -> None:
    """Forget a removed BMS: its saved totals, and its place in any bank."""
    if entry.data.get(CONF_KIND) == KIND_BANK:
        ir.async_delete_issue(hass, DOMAIN, too_small_issue_id(entry))
        await async_remove_bank_state(hass, entry.entry_id)
        return
    if entry.data.get(CONF_KIND) == KIND_BUS:
        await async_remove_bus_state(hass, entry)
        return
    await async_remove_saved_state(hass, entry.entry_id)
    await async_remove_reported_state(hass, entry)
    for bank in hass.config_entries.async_entries(DOMAIN):
        members = bank.data.get(CONF_MEMBERS, [])
        if entry.entry_id not in members:
            continue
        remaining = [m for m in members if m != entry.entry_id]
        hass.config_entries.async_update_entry(
            bank, data={**bank.data, CONF_MEMBERS: remaining}
        )
        if len(remaining) < MIN_BANK_MEMBERS:
            ir.async_create_issue(
                hass,
                DOMAIN,
                too_small_issue_id(bank),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="bank_too_small",
                translation_placeholders={"bank": bank.title, "removed": entry.title},
            )
        hass.config_entries.async_schedule_reload(bank.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: LithiumBmsConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a pack that left its bus or its master (nothing else)."""
    if entry.data.get(CONF_KIND) == KIND_BANK:
        return False
    if entry.data.get(CONF_KIND) != KIND_BUS:
        return await async_remove_reported_pack_device(hass, entry, device)
    return await async_remove_bus_pack_device(
        hass, cast("BusConfigEntry", entry), device
    )
