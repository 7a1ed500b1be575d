"""RoyPow end to end through the virtual proxy: names with spaces around them."""

from __future__ import annotations

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.device import Advertising, uuid16
from bms_simulator.families.roypow import demo
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN
from custom_components.lithium_bms.protocol.jk import JkDriver
from tests.flows import user_flow

from .discovery import AddDevice

ADDRESS = "12:6C:14:00:31:35"


@pytest.mark.parametrize(
    "name",
    # aiobmsble test_data/roypow_bms.json: Epoch, PowerUrus, Lion Energy.
    [" B12100A 220600016 ", " S12200A  LE00006", " UT1300 BT 2207B00434"],
    ids=str.strip,
)
async def test_discovery_titles_the_entry_without_the_spaces(
    hass: HomeAssistant, add_device: AddDevice, name: str
) -> None:
    sim = demo(ADDRESS)
    sim.advertising.name = name
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["unique_id"] for flow in flows] == [ADDRESS]
    assert flows[0]["context"]["title_placeholders"] == {"name": name.strip()}
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["title"] == name.strip()
    assert result["data"] == {CONF_ADDRESS: ADDRESS, CONF_FAMILY: "roypow"}
    assert result["result"].state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    "advertising",
    [
        # The model without RoyPow's leading space, as other brands name packs.
        Advertising("B12100A 220600016", [uuid16(0xFFE0)]),
        # The name without service FFE0.
        Advertising(" B12100A 220600016 ", [uuid16(0xFEE7)]),
    ],
    ids=["no space", "no ffe0"],
)
async def test_lookalikes_are_not_offered(
    hass: HomeAssistant, add_device: AddDevice, advertising: Advertising
) -> None:
    sim = demo(ADDRESS)
    sim.advertising = advertising
    await add_device(sim)
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []


async def test_a_renamed_pack_is_found_by_probing(
    hass: HomeAssistant, add_device: AddDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Families on FFE0 are probed first, in claim order: JK waits for its
    # cell frame in vain, Redodo finds no FFE2, RoyPow answers.
    monkeypatch.setattr(JkDriver, "request_timeout", 0.2)
    sim = demo(ADDRESS)
    sim.advertising = Advertising("Camper battery", [uuid16(0xFFE0)])
    await add_device(sim)
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    result = await user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: ADDRESS}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Camper battery"
    assert result["data"] == {CONF_ADDRESS: ADDRESS, CONF_FAMILY: "roypow"}
    # JK's request went to FFE1 first, and went unanswered.
    assert sim.writes[0].startswith(bytes.fromhex("aa5590eb"))
    assert bytes.fromhex("ead10104ff02f9f5") in sim.writes
