"""Removing a pack from its bus (it left), and a removed bus's saved state."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from ..bank.coordinator import async_remove_bank_state
from ..const import CONF_BUS_ADDRESS, DOMAIN
from ..devices import entry_device
from ..tracker import async_remove_saved_state
from .coordinator import pack_gone_issue_id
from .kind import BusConfigEntry
from .packs import pack_addresses, pack_identity, stored_packs, with_packs


async def async_remove_bus_pack(
    hass: HomeAssistant, entry: ConfigEntry[Any], address: int
) -> None:
    """Forget the pack at ``address``: its record, saved state and device."""
    packs = [p for p in stored_packs(entry) if p[CONF_BUS_ADDRESS] != address]
    identity = pack_identity(entry, address)
    ir.async_delete_issue(hass, DOMAIN, pack_gone_issue_id(entry.entry_id, address))
    await async_remove_saved_state(hass, identity.storage_id)
    if device := entry_device(hass, entry.entry_id, identity.key):
        dr.async_get(hass).async_update_device(
            device.id, remove_config_entry_id=entry.entry_id
        )
    hass.config_entries.async_update_entry(entry, data=with_packs(entry.data, packs))
    hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_remove_bus_pack_device(
    hass: HomeAssistant, entry: BusConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Whether ``device`` may go: a pack that does not answer (then forgotten).

    A pack still answering would come back at once; the bus device goes with
    its entry.
    """
    for address in pack_addresses(entry):
        if (DOMAIN, pack_identity(entry, address).key) not in device.identifiers:
            continue
        if entry.state is ConfigEntryState.LOADED:
            pack = entry.runtime_data.packs.get(address)
            if pack is not None and pack.last_update_success:
                return False
        await async_remove_bus_pack(hass, entry, address)
        return True
    return False


async def async_remove_bus_state(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Delete the saved state of every pack of a removed bus, and its bank's."""
    for address in pack_addresses(entry):
        ir.async_delete_issue(hass, DOMAIN, pack_gone_issue_id(entry.entry_id, address))
        await async_remove_saved_state(hass, pack_identity(entry, address).storage_id)
    await async_remove_bank_state(hass, entry.entry_id)
