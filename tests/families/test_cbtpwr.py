"""CBT Power through the virtual proxy: discovery picks and stores the protocol."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.device import SimulatedBms
from bms_simulator.families.cbtpwr import demo, vb_demo
from bms_simulator.proxy import VirtualProxy
from custom_components.lithium_bms.const import CONF_FAMILY, CONF_VARIANT

from .discovery import AddDevice, confirm_discovery


@pytest.mark.parametrize(
    "case",
    [
        (lambda: demo("38:AB:41:00:11:22"), "classic", "VB024000001"),
        (lambda: vb_demo("F8:2E:0C:00:11:22"), "vb", "170R000001"),
    ],
    ids=["classic", "vb"],
)
async def test_discovery_stores_the_protocol_and_reload_keeps_it(
    hass: HomeAssistant,
    add_device: AddDevice,
    proxy: VirtualProxy,
    case: tuple[Callable[[], SimulatedBms], str, str],
) -> None:
    build, variant, renamed = case
    sim = build()
    sim.pack.current = -12.5
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    result = await confirm_discovery(hass, sim.address)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_ADDRESS: sim.address,
        CONF_FAMILY: "cbtpwr",
        CONF_VARIANT: variant,
    }
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    current = next(
        state
        for state in hass.states.async_all("sensor")
        if state.entity_id.endswith("_current")
    )
    assert current.state == "-12.5"

    # Renamed as the other series after the discovery: the stored one decides.
    sim.advertising.name = renamed
    proxy.advertise(sim)
    await hass.async_block_till_done()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_VARIANT] == variant
    state = hass.states.get(current.entity_id)
    assert state is not None
    assert state.state == "-12.5"
