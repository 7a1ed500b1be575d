"""Moving a CAN battery to another adapter, channel or bit rate."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.can import CanBroadcaster, demo_pack
from custom_components.lithium_bms import config_flow
from custom_components.lithium_bms.canbus.flow import Heard
from custom_components.lithium_bms.const import (
    CONF_CAN_BITRATE,
    CONF_CAN_CHANNEL,
    CONF_CAN_INTERFACE,
    CONF_CAN_JK_ADDRESS,
    CONF_FAMILY,
    DOMAIN,
)
from custom_components.lithium_bms.protocol.can.transport import CanSettings

from .conftest import can_entry, setup_can


@pytest.fixture
async def moved(channel: str) -> AsyncGenerator[tuple[str, CanBroadcaster]]:
    """The same battery, now heard on a channel of its own."""
    other = f"{channel}_moved"
    sim = CanBroadcaster(demo_pack())
    sim.start("virtual", other)
    yield other, sim
    await sim.stop()


async def _reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, channel: str, bitrate: int = 500_000
) -> dict[str, Any]:
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_CAN_INTERFACE: "virtual",
            CONF_CAN_CHANNEL: channel,
            CONF_CAN_BITRATE: str(bitrate),
        },
    )


def _voltage_entity(hass: HomeAssistant, entry: MockConfigEntry) -> str | None:
    return er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.unique_id}_voltage"
    )


async def test_moved_battery_keeps_its_entities(
    hass: HomeAssistant, entry: MockConfigEntry, moved: tuple[str, CanBroadcaster]
) -> None:
    other, _ = moved
    unique_id, entity_id = entry.unique_id, _voltage_entity(hass, entry)
    result = await _reconfigure(hass, entry, other, 250_000)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_CAN_CHANNEL] == other
    assert entry.data[CONF_CAN_BITRATE] == 250_000
    assert entry.title == f"PYLON ({other})"
    assert entry.unique_id == unique_id
    assert entry.state is ConfigEntryState.LOADED
    assert _voltage_entity(hass, entry) == entity_id
    assert entry.runtime_data.coordinator.client.driver.transport.settings == (
        CanSettings("virtual", other, 250_000)
    )


async def test_moving_to_a_jk_bms_at_another_address_reads_that_address(
    hass: HomeAssistant, entry: MockConfigEntry, channel: str
) -> None:
    """The entry keeps the JK address heard on the new channel."""
    other = f"{channel}_jk"
    sim = CanBroadcaster(demo_pack(), version="jk", jk_address=5)
    sim.start("virtual", other)
    try:
        result = await _reconfigure(hass, entry, other)
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.data[CONF_CAN_JK_ADDRESS] == 5
        assert entry.title == f"JK BMS ({other})"
        coordinator = entry.runtime_data.coordinator
        assert coordinator.client.driver.decoder.jk_address == 5
        assert coordinator.last_update_success
        assert coordinator.data.state_of_charge == 76
    finally:
        await sim.stop()


async def test_reconfiguring_repairs_an_edited_entry(
    hass: HomeAssistant, moved: tuple[str, CanBroadcaster]
) -> None:
    """A hand-edited entry that failed to set up is mended by listening again."""
    other, _ = moved
    entry = can_entry(other)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data={**entry.data, CONF_CAN_BITRATE: "fast", CONF_CAN_JK_ADDRESS: 99},
    )
    await setup_can(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    result = await _reconfigure(hass, entry, other)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_CAN_BITRATE] == 500_000
    assert CONF_CAN_JK_ADDRESS not in entry.data, "no JK frames: no address kept"
    assert entry.state is ConfigEntryState.LOADED


async def test_silent_channel_changes_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, channel: str
) -> None:
    result = await _reconfigure(hass, entry, f"{channel}_silent")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "can_silent"}
    assert entry.data[CONF_CAN_CHANNEL] == channel
    assert entry.state is ConfigEntryState.LOADED


async def test_channel_of_another_battery_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, moved: tuple[str, CanBroadcaster]
) -> None:
    other, _ = moved
    await setup_can(hass, can_entry(other))
    result = await _reconfigure(hass, entry, other)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_CAN_CHANNEL] != other


async def test_a_new_flow_refuses_the_channel_an_entry_moved_to(
    hass: HomeAssistant, entry: MockConfigEntry, moved: tuple[str, CanBroadcaster]
) -> None:
    other, _ = moved
    await _reconfigure(hass, entry, other)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "can"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_CAN_INTERFACE: "virtual",
            CONF_CAN_CHANNEL: other,
            CONF_CAN_BITRATE: "500000",
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize("free_once_unloaded", [True, False])
async def test_own_busy_adapter_is_freed_for_the_new_settings(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    channel: str,
    monkeypatch: pytest.MonkeyPatch,
    free_once_unloaded: bool,
) -> None:
    """A serial adapter the entry holds is busy until the entry lets it go."""
    real_listen = config_flow.async_listen
    states: list[ConfigEntryState] = []

    async def listen(settings: CanSettings) -> Heard | str:
        states.append(entry.state)
        if entry.state is ConfigEntryState.LOADED or not free_once_unloaded:
            return "can_busy"
        return await real_listen(settings)

    monkeypatch.setattr(config_flow, "async_listen", listen)
    result = await _reconfigure(hass, entry, channel, 250_000)
    await hass.async_block_till_done()
    assert states == [ConfigEntryState.LOADED, ConfigEntryState.NOT_LOADED]
    assert entry.state is ConfigEntryState.LOADED
    if free_once_unloaded:
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data[CONF_CAN_BITRATE] == 250_000
    else:
        assert result["errors"] == {"base": "can_busy"}
        assert entry.data[CONF_CAN_BITRATE] == 500_000


async def test_a_bluetooth_bms_is_not_reconfigured(hass: HomeAssistant) -> None:
    """Its only setting is its address, its unique id."""
    bluetooth = MockConfigEntry(
        domain=DOMAIN,
        unique_id="AA:BB:CC:DD:EE:FF",
        data={CONF_ADDRESS: "AA:BB:CC:DD:EE:FF", CONF_FAMILY: "jbd"},
    )
    bluetooth.add_to_hass(hass)
    result = await bluetooth.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_not_supported"
