"""E&J end to end through the virtual proxy: discovery, the variants, libattU."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.device import Advertising
from bms_simulator.families.ej import AG_COMPANY, NUS, EjSimulator, Variant
from custom_components.lithium_bms.const import CONF_FAMILY, DOMAIN

from .discovery import AddDevice

ADDRESS = "02:00:07:00:31:35"


@pytest.mark.parametrize(
    ("advertising", "options"),
    [
        # Names and data of patman15/aiobmsble aiobmsble/test_data/ej_bms.json
        # and ag_bms.json (BMS_BLE-HA #187, #358, #625; Chins on a Cerbo GX).
        (Advertising("L-12V100AH-0902"), {}),
        (Advertising("LT-12V-0002\r\n"), {}),
        (Advertising("G-12V300Ah-0345", [NUS]), {"variant": Variant.SINGLE_FRAME}),
        (
            Advertising(
                "AG100L21021805", [], {AG_COMPANY: bytes.fromhex("84280836070d6400")}
            ),
            {"ag": True},
        ),
        # A libattU pack's checksum never fits: read because of its name.
        (
            Advertising("libattU12E9", [NUS], {AG_COMPANY: b"8428089d12e96400"}),
            {"wrong_checksum": True},
        ),
    ],
    ids=["lithtech", "lithtech_crlf", "chins", "ag", "libattu"],
)
async def test_discovery_creates_an_ej_entry_that_reads(
    hass: HomeAssistant,
    add_device: AddDevice,
    advertising: Advertising,
    options: dict[str, Any],
) -> None:
    sim = EjSimulator(ADDRESS, advertising.name, **options)
    sim.advertising = advertising
    await add_device(sim)
    assert sim.connections == 0, "no connection before the user confirms"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["unique_id"] for flow in flows] == [ADDRESS]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["data"] == {CONF_ADDRESS: ADDRESS, CONF_FAMILY: "ej"}
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    snapshot = entry.runtime_data.coordinator.data
    assert snapshot.cell_voltages == tuple(sim.pack.cell_voltages)
    assert snapshot.remaining_capacity == sim.pack.remaining_capacity


@pytest.mark.parametrize(
    "advertising",
    [
        Advertising("AG100L21021805"),  # AG's name without company 21320
        Advertising("SV12V150224041"),  # Electronix's name without 33384
        Advertising("G-Shock"),
    ],
    ids=lambda a: a.name,
)
async def test_lookalikes_are_not_offered(
    hass: HomeAssistant, add_device: AddDevice, advertising: Advertising
) -> None:
    sim = EjSimulator(ADDRESS, advertising.name)
    sim.advertising = advertising
    await add_device(sim)
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
