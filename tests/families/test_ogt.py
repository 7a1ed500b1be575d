"""Offgridtec end to end through the virtual proxy: the key from the name.

The link is scrambled with a key from the advertised name, so the entry
remembers the name: a pack that advertises another name later is still read.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.families.ogt import demo
from custom_components.lithium_bms.const import CONF_DRIVER_MEMORY, CONF_FAMILY, DOMAIN

from .discovery import AddDevice

ADDRESS = "5C:53:10:00:31:35"


async def test_discovery_remembers_the_name(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = await add_device(demo(ADDRESS))
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["unique_id"] for flow in flows] == [ADDRESS]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_FAMILY] == "ogt"
    assert entry.data[CONF_DRIVER_MEMORY] == {"name": sim.advertising.name}


async def test_a_pack_read_by_the_remembered_name(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = demo(ADDRESS)
    sim.advertising.name = "Camper battery"  # renamed since it was added
    await add_device(sim)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="SmartBat-B15051",
        unique_id=ADDRESS,
        data={
            CONF_ADDRESS: ADDRESS,
            CONF_FAMILY: "ogt",
            CONF_DRIVER_MEMORY: {"name": "SmartBat-B15051"},
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    snapshot = entry.runtime_data.coordinator.data
    assert snapshot.cell_voltages == tuple(sim.pack.cell_voltages)
    assert entry.data[CONF_DRIVER_MEMORY] == {"name": "SmartBat-B15051"}
