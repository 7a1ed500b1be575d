"""ECO-WORTHY end to end through the virtual proxy: which board a pack has.

ECO-WORTHY sells packs with its BW02 / DCHOUSE module and packs with a JBD
board; the advertisement tells them apart (tests/protocol/data/
advertisements.json), so the discovery already names the right family.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.device import SimulatedBms
from bms_simulator.families.ecoworthy import EcoworthySimulator, demo
from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN

type AddDevice = Callable[[SimulatedBms], Any]


def _bw02_without_service() -> SimulatedBms:
    """An ``ECO-WORTHY 02_`` module advertising no service (BMS_BLE-HA #253)."""
    sim = EcoworthySimulator("E2:E0:ED:00:50:DB", "ECO-WORTHY 02_50DB")
    sim.advertising.service_uuids = []
    return sim


@pytest.mark.parametrize(
    ("build", "family"),
    [
        (lambda: demo("E2:E0:5A:78:3C:31"), "ecoworthy"),
        (_bw02_without_service, "ecoworthy"),
        # ECO-WORTHY 12 V 100 Ah with a JBD board (BMS_BLE-HA #144).
        (lambda: JbdSimulator("A5:C2:37:00:11:22", "DP04S007L4S100A"), "jbd"),
        # ECO-WORTHY 48 V server rack V3 with a JBD board (BMS_BLE-HA #284).
        (lambda: JbdSimulator("AA:C2:37:00:11:22", "ECO-LFP48100-3U-8EC7"), "jbd"),
    ],
    ids=["bw0b", "bw02 no service", "jbd 12v", "jbd rack"],
)
async def test_the_discovery_names_the_board(
    hass: HomeAssistant,
    add_device: AddDevice,
    build: Callable[[], SimulatedBms],
    family: str,
) -> None:
    sim = build()
    sim.pack.current = -6.0
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["unique_id"] for flow in flows] == [sim.address]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["data"] == {CONF_ADDRESS: sim.address, CONF_FAMILY: family}
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    current = next(
        state
        for state in hass.states.async_all("sensor")
        if state.entity_id.endswith("_current")
    )
    assert current.state == "-6.0"
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
