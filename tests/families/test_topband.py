"""Topband and PowerXtreme end to end through the virtual proxy.

What differs from the other families: discovery by service and company id
alone, company 65535 (which Home Assistant's Kegtron integration also
watches) or PowerXtreme's iBeacon under Apple's company 76 (which its
iBeacon integration watches), and the maker told by the service in use.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr

from bms_simulator.device import Advertising, SimulatedBms
from bms_simulator.families.topband import TopbandSimulator
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN
from custom_components.lithium_bms.protocol.matching import uuid16

from .discovery import AddDevice

FFE0 = uuid16(0xFFE0)


@pytest.fixture(autouse=True)
def only_our_matchers(without_kegtron_and_ibeacon: None) -> None:
    """Kegtron and iBeacon also match these advertisements (tests/conftest.py)."""


def _sim(
    address: str, powerxtreme: bool, advertising: Advertising | None
) -> SimulatedBms:
    pack = PackModel(cell_voltages=[3.344, 3.388, 3.389, 3.386], current=-2.5)
    sim = TopbandSimulator(address, "NWJ20200720020539", pack, powerxtreme=powerxtreme)
    sim.period = 0.05
    if advertising is not None:
        sim.advertising = advertising
    return sim


@pytest.mark.parametrize(
    "case",
    [
        # As in BMS_BLE-HA #739: no local name, company 65535 with the MAC.
        (
            "30:55:44:00:31:35",
            False,
            Advertising("", [FFE0], {0xFFFF: bytes.fromhex("305544003135")}),
            "Topband",
        ),
        # As in BMS_BLE-HA #137: company 0.
        ("30:55:44:00:31:36", False, None, "Topband"),
        # PowerXtreme X210 (BMS_BLE-HA #769): "Moby", FEF5 and FFF0, iBeacon.
        ("DC:0D:30:00:31:37", True, None, "PowerXtreme"),
    ],
    ids=["company_65535", "company_0", "powerxtreme"],
)
async def test_discovery_creates_a_topband_entry(
    hass: HomeAssistant, add_device: AddDevice, case: tuple[Any, ...]
) -> None:
    address, powerxtreme, advertising, maker = case
    sim = _sim(address, powerxtreme, advertising)
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["unique_id"] for flow in flows] == [address]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["data"] == {CONF_ADDRESS: address, CONF_FAMILY: "topband"}
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device.manufacturer == maker
    # Topband: nothing written; PowerXtreme: its two requests before each read.
    assert set(sim.writes) == ({b"<B:ST>", b"<H:ST>"} if powerxtreme else set())
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    "advertising",
    [
        Advertising("NWJ20221223010330", [FFE0]),  # the service, no company
        Advertising("NWJ20221223010330", [], {0xFFFF: b"\x30\x55\x44"}),  # no FFE0
        Advertising("Moby", [uuid16(0xFFF0)]),  # PowerXtreme's service alone
    ],
    ids=["no_company", "no_service", "fff0_alone"],
)
async def test_lookalikes_are_not_offered(
    hass: HomeAssistant, add_device: AddDevice, advertising: Advertising
) -> None:
    await add_device(_sim("30:55:44:00:31:38", False, advertising))
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
