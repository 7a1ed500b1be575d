"""Renogy end to end through the virtual proxy: discovery picks and stores the line."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant

from bms_simulator.families.renogy import RenogyBattery, demo, demo_pro
from bms_simulator.proxy import VirtualProxy
from custom_components.lithium_bms.const import CONF_FAMILY, CONF_VARIANT

from .discovery import AddDevice, confirm_discovery


@pytest.mark.parametrize(
    "case",
    [
        (lambda: demo("60:98:66:00:11:22"), "classic", "RNGRBP0000000001"),
        (lambda: demo_pro("4C:E1:74:00:11:22"), "pro", "BT-TH-00000001"),
    ],
    ids=["classic", "pro"],
)
async def test_discovery_stores_the_line_and_reload_keeps_it(
    hass: HomeAssistant,
    add_device: AddDevice,
    proxy: VirtualProxy,
    case: tuple[Callable[[], RenogyBattery], str, str],
) -> None:
    build, variant, renamed = case
    sim = build()
    sim.pack.current = -12.5
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    result = await confirm_discovery(hass, sim.address)
    assert result["data"] == {
        CONF_ADDRESS: sim.address,
        CONF_FAMILY: "renogy",
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

    # Renamed as the other line after the discovery: the stored line decides.
    sim.advertising.name = renamed
    proxy.advertise(sim)
    await hass.async_block_till_done()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_VARIANT] == variant
    assert hass.states.get(current.entity_id).state == "-12.5"  # type: ignore[union-attr]
