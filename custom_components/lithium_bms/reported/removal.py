"""Removing a pack its master no longer reports, and the packs' saved state."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..bank.coordinator import async_remove_bank_state
from ..bus.packs import pack_addresses, stored_packs, with_packs
from ..const import CONF_BUS_ADDRESS, DOMAIN
from ..coordinator import LithiumBmsConfigEntry
from ..tracker import async_remove_saved_state
from .coordinator import reported_identity
from .kind import MasterData


async def async_remove_reported_pack_device(
    hass: HomeAssistant, entry: LithiumBmsConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Whether ``device`` may go: a pack the master does not report (forgotten).

    A pack still reported would come back at once; the master's device and
    the bank's go with the entry.
    """
    for number in pack_addresses(entry):
        identity = reported_identity(entry, number)
        if (DOMAIN, identity.key) not in device.identifiers:
            continue
        if entry.state is ConfigEntryState.LOADED:
            data = entry.runtime_data
            pack = data.packs.get(number) if isinstance(data, MasterData) else None
            if pack is not None and pack.last_update_success:
                return False
        await async_remove_saved_state(hass, identity.storage_id)
        packs = [p for p in stored_packs(entry) if p[CONF_BUS_ADDRESS] != number]
        hass.config_entries.async_update_entry(
            entry, data=with_packs(entry.data, packs)
        )
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return True
    return False


async def async_remove_reported_state(
    hass: HomeAssistant, entry: LithiumBmsConfigEntry
) -> None:
    """Delete the saved state of a removed entry's reported packs and bank."""
    numbers = pack_addresses(entry)
    for number in numbers:
        await async_remove_saved_state(
            hass, reported_identity(entry, number).storage_id
        )
    if numbers:
        await async_remove_bank_state(hass, entry.entry_id)
