"""Setting up, unloading and stopping an entry of every family."""

from __future__ import annotations

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from bms_simulator.proxy import VirtualProxy

from ..conftest import setup_entry
from .conftest import CASES, FamilyCase, FamilySetup


async def test_setup_creates_the_device(
    hass: HomeAssistant, family: FamilySetup
) -> None:
    entry = await family.setup()
    assert entry.state is ConfigEntryState.LOADED
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    assert (dr.CONNECTION_BLUETOOTH, family.device.address) in devices[0].connections
    assert devices[0].manufacturer


async def test_unload_disconnects(hass: HomeAssistant, family: FamilySetup) -> None:
    entry = await family.setup()
    assert family.device.connected
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not family.device.connected


async def test_stop_event_disconnects(hass: HomeAssistant, family: FamilySetup) -> None:
    await family.setup()
    assert family.device.connected
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert not family.device.connected


async def test_a_device_out_of_range_retries(
    hass: HomeAssistant, family: FamilySetup, proxy: VirtualProxy
) -> None:
    family.device.gone = True
    entry = await family.setup()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "failed or was lost" in (entry.reason or "")
    family.device.gone = False
    proxy.advertise(family.device)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_a_device_never_seen_retries(
    without_kegtron_and_ibeacon: None,
    hass: HomeAssistant,
    proxy: VirtualProxy,
    case: FamilyCase,
) -> None:
    device = case.build()
    entry = await setup_entry(hass, device, case.family, case.options)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "No Bluetooth adapter or proxy currently sees" in (entry.reason or "")
    proxy.add(device)
    proxy.advertise(device)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
