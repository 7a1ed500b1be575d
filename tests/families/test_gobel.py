"""Gobel end to end through the virtual proxy: discovery by name alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.loader import async_get_bluetooth

from bms_simulator.device import Advertising
from bms_simulator.families.gobel import GobelSimulator, demo
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN

from .discovery import AddDevice

ADDRESS = "04:D8:10:00:31:35"


@pytest.fixture(autouse=True)
def without_kegtron() -> Iterator[None]:
    """Home Assistant's kegtron matches every company-65535 advertisement.

    Its library is not installed in the test environment, so its discovery
    flow would fail; it plays no part in whether we claim a device.
    """

    async def matchers(hass: HomeAssistant) -> list[Any]:
        found = await async_get_bluetooth(hass)
        return [m for m in found if m["domain"] != "kegtron"]

    with patch("homeassistant.components.bluetooth.async_get_bluetooth", matchers):
        yield


@pytest.mark.parametrize(
    "advertising",
    [
        Advertising("BMS-4056911A1100032P    "),
        # Dyness AR1.2 (BMS_BLE-HA #749): only the name and company 65535.
        Advertising("B7522603211101     ", [], {0xFFFF: b"\x4e"}),
    ],
    ids=lambda a: a.name.strip(),
)
async def test_discovery_creates_gobel_entry(
    hass: HomeAssistant, add_device: AddDevice, advertising: Advertising
) -> None:
    sim = demo(ADDRESS)
    sim.advertising = advertising
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["unique_id"] for flow in flows] == [ADDRESS]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["data"] == {CONF_ADDRESS: ADDRESS, CONF_FAMILY: "gobel"}
    assert result["result"].state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    "advertising",
    [
        Advertising("B7522603211101"),  # the name without the Nations data
        Advertising("BMS-SMART_708BFC"),  # a classic BT device (aiobmsble ignore)
    ],
    ids=lambda a: a.name,
)
async def test_lookalikes_are_not_offered(
    hass: HomeAssistant, add_device: AddDevice, advertising: Advertising
) -> None:
    sim = GobelSimulator(ADDRESS, advertising.name)
    sim.advertising = advertising
    await add_device(sim)
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
