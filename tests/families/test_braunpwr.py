"""Braun Power end to end through the virtual proxy: told apart from JBD.

Both advertise service FF00 with company id 123 (tests/protocol/data/
advertisements.json): the name decides at discovery. A Braun Power pack whose
owner gave it a name no matcher knows (aiobmsble PR #251: the Vanvolt Arctic
Pro's factory name is its serial) is found by the probe when added by hand,
after JBD's protocol got no answer.
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
from bms_simulator.families.braunpwr import COMPANY_DATA, COMPANY_ID, demo
from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms import config_flow
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN
from custom_components.lithium_bms.protocol.braunpwr import BraunPowerDriver
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from tests.flows import user_flow

from .discovery import AddDevice, confirm_discovery


def _jbd_like_braun() -> JbdSimulator:
    """A JBD module with the same service and company data (BMS_BLE-HA #303)."""
    sim = JbdSimulator("F9:56:0B:00:11:22", "SBL-12330BLH1-242055")
    sim.advertising.manufacturer_data = {COMPANY_ID: COMPANY_DATA}
    return sim


async def _loaded(hass: HomeAssistant, result: dict[str, Any], family: str) -> None:
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_FAMILY] == family
    await hass.async_block_till_done()
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


@pytest.mark.parametrize(
    ("build", "family"),
    [
        (lambda: demo("24:19:72:00:11:22"), "braunpwr"),
        (_jbd_like_braun, "jbd"),
    ],
    ids=["braun power", "jbd on the same module"],
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
    result = await confirm_discovery(hass, sim.address)
    await _loaded(hass, dict(result), family)


async def test_a_renamed_pack_is_found_by_probing(
    hass: HomeAssistant, add_device: AddDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(JbdDriver, "request_timeout", 0.2)
    monkeypatch.setattr(JbdDriver, "auth_timeout", 0.2)
    monkeypatch.setattr(BraunPowerDriver, "request_timeout", 0.5)
    monkeypatch.setattr(config_flow, "PROBE_TIMEOUT", 5.0)
    sim = demo("24:19:72:00:33:44")
    sim.advertising.name = "VV12180AP0042"
    sim.pack.current = -6.0
    await add_device(sim)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    result = await user_flow(hass)
    assert result["step_id"] == "device"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: sim.address}
    )
    await _loaded(hass, dict(result), "braunpwr")
