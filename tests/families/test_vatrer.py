"""Vatrer through the virtual proxy: discovery picks and stores the variant."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant

from bms_simulator.families.vatrer import VatrerBms, demo, demo_c4s
from bms_simulator.proxy import VirtualProxy
from custom_components.lithium_bms.const import CONF_FAMILY, CONF_VARIANT

from .discovery import AddDevice, confirm_discovery


@pytest.mark.parametrize(
    "case",
    [
        (lambda: demo("5A:48:65:00:11:22"), "vatrer"),
        (lambda: demo_c4s("5A:48:65:00:33:44"), "c4s"),
    ],
    ids=["vatrer", "c4s"],
)
async def test_discovery_stores_the_variant_and_reload_keeps_it(
    hass: HomeAssistant,
    add_device: AddDevice,
    proxy: VirtualProxy,
    case: tuple[Callable[[], VatrerBms], str],
) -> None:
    build, variant = case
    sim = build()
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    result = await confirm_discovery(hass, sim.address)
    assert result["data"] == {
        CONF_ADDRESS: sim.address,
        CONF_FAMILY: "vatrer",
        CONF_VARIANT: variant,
    }
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    current = next(
        state
        for state in hass.states.async_all("sensor")
        if state.entity_id.endswith("_current")
    )
    assert current.state == str(sim.pack.current)

    # The BMS is read only in the way its variant answers: the stored one
    # decides after a reload, whatever name it advertises then.
    sim.advertising.name = "PACK"
    proxy.advertise(sim)
    await hass.async_block_till_done()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_VARIANT] == variant
    assert hass.states.get(current.entity_id).state == str(sim.pack.current)  # type: ignore[union-attr]
