"""The CAN config flow: listen, show what was heard, one click; its errors."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import can
import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from bms_simulator.can import CanBroadcaster, demo_pack
from custom_components.lithium_bms.const import (
    CONF_CAN_BITRATE,
    CONF_CAN_CHANNEL,
    CONF_CAN_INTERFACE,
    CONF_CAN_JK_ADDRESS,
    CONF_KEEP_CONNECTED,
    CONF_KIND,
    CONF_PACK_CAPACITY,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
    KIND_CAN,
)
from custom_components.lithium_bms.protocol.can.errors import (
    CanAdapterError,
    CanBusyError,
    CanPermissionError,
)

from ..protocol.usb_backend import usb_backend_present
from .conftest import can_entry, setup_can

OPEN_BUS = "custom_components.lithium_bms.protocol.can.transport.open_bus"


async def _can_form(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "can" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "can"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "can"
    return result


async def _submit(
    hass: HomeAssistant, flow: dict[str, Any], interface: str, channel: str
) -> dict[str, Any]:
    return await hass.config_entries.flow.async_configure(
        flow["flow_id"],
        {
            CONF_CAN_INTERFACE: interface,
            CONF_CAN_CHANNEL: channel,
            CONF_CAN_BITRATE: "500000",
        },
    )


async def test_heard_battery_is_added_with_one_click(
    hass: HomeAssistant, channel: str, battery: CanBroadcaster
) -> None:
    result = await _submit(hass, await _can_form(hass), " virtual ", f" {channel} ")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "can_confirm"
    placeholders = result["description_placeholders"]
    assert placeholders["manufacturer"] == "PYLON"
    assert placeholders["model"] == "Pylontech CAN, 2 modules"
    assert placeholders["channel"] == channel
    assert placeholders["voltage"] == f"{battery.pack.voltage:.2f}"
    assert placeholders["soc"] == "76"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"PYLON ({channel})"
    assert result["data"] == {
        CONF_KIND: KIND_CAN,
        CONF_CAN_INTERFACE: "virtual",
        CONF_CAN_CHANNEL: channel,
        CONF_CAN_BITRATE: 500_000,
    }
    entry = result["result"]
    assert entry.unique_id == f"virtual:{channel}"
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator.last_update_success
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_jk_battery_is_heard_and_added(
    hass: HomeAssistant, channel: str
) -> None:
    """A bus carrying JK's own CAN frames only is a battery too."""
    sim = CanBroadcaster(demo_pack(), version="jk")
    sim.start("virtual", channel)
    try:
        result = await _submit(hass, await _can_form(hass), "virtual", channel)
        assert result["step_id"] == "can_confirm"
        placeholders = result["description_placeholders"]
        assert (placeholders["manufacturer"], placeholders["model"]) == (
            "JK BMS",
            "JK CAN",
        )
        assert placeholders["soc"] == "76"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == f"JK BMS ({channel})"
        assert result["data"][CONF_CAN_JK_ADDRESS] == 0
        await hass.async_block_till_done()
        await hass.config_entries.async_unload(result["result"].entry_id)
    finally:
        await sim.stop()


async def test_a_growatt_protocol_battery_is_heard_and_added(
    hass: HomeAssistant, channel: str
) -> None:
    """A battery answering a Growatt inverter is a battery too; no JK address."""
    sim = CanBroadcaster(demo_pack(), manufacturer="GT", modules=1, version="growatt")
    sim.start("virtual", channel)
    try:
        result = await _submit(hass, await _can_form(hass), "virtual", channel)
        assert result["step_id"] == "can_confirm"
        placeholders = result["description_placeholders"]
        assert (placeholders["manufacturer"], placeholders["model"]) == (
            "GT",
            "Growatt CAN",
        )
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == f"GT ({channel})"
        assert CONF_CAN_JK_ADDRESS not in result["data"]
        await hass.async_block_till_done()
        await hass.config_entries.async_unload(result["result"].entry_id)
    finally:
        await sim.stop()


async def test_the_lowest_jk_address_heard_is_added(
    hass: HomeAssistant, channel: str
) -> None:
    """JK packs at addresses 2 and 3: the entry reads address 2's, only."""
    packs = [demo_pack(), demo_pack()]
    packs[0].soc, packs[1].soc = 55.0, 88.0
    sims = [
        CanBroadcaster(pack, version="jk", jk_address=address)
        for pack, address in zip(packs, (2, 3), strict=True)
    ]
    for sim in reversed(sims):
        sim.start("virtual", channel)
    try:
        result = await _submit(hass, await _can_form(hass), "virtual", channel)
        assert result["step_id"] == "can_confirm"
        placeholders = result["description_placeholders"]
        assert placeholders["model"] == "JK CAN, address 2"
        assert placeholders["soc"] == "55"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["data"][CONF_CAN_JK_ADDRESS] == 2
        entry = result["result"]
        await hass.async_block_till_done()
        assert entry.runtime_data.coordinator.data.state_of_charge == 55
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        for sim in sims:
            await sim.stop()


async def test_silent_bus(hass: HomeAssistant, channel: str) -> None:
    result = await _submit(hass, await _can_form(hass), "virtual", channel)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "can_silent"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_wrong_bit_rate_nothing_decodes(
    hass: HomeAssistant, channel: str, battery: CanBroadcaster
) -> None:
    # At the wrong bit rate an adapter sees error frames, never a valid one.
    battery.messages = lambda: [can.Message(is_error_frame=True)]  # type: ignore[method-assign]
    result = await _submit(hass, await _can_form(hass), "virtual", channel)
    assert result["errors"] == {"base": "can_nothing_decoded"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_other_protocol_only(
    hass: HomeAssistant, channel: str, battery: CanBroadcaster
) -> None:
    battery.messages = lambda: [  # type: ignore[method-assign]
        can.Message(arbitration_id=0x18FF50E5, data=bytes(8)),
        can.Message(arbitration_id=0x355, data=b"\x01", is_extended_id=False),
    ]
    result = await _submit(hass, await _can_form(hass), "virtual", channel)
    assert result["errors"] == {"base": "can_nothing_decoded"}


@pytest.mark.parametrize(
    ("interface", "channel", "error"),
    [
        ("no_such_interface", "can0", "can_unavailable"),
        ("slcan", "/dev/ttyNO_SUCH_ADAPTER", "can_not_found"),
        (
            "gs_usb",
            "0",
            "can_not_found" if usb_backend_present() else "can_unavailable",
        ),
    ],
)
async def test_bad_interface(
    hass: HomeAssistant, interface: str, channel: str, error: str
) -> None:
    result = await _submit(hass, await _can_form(hass), interface, channel)
    assert result["errors"] == {"base": error}
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.parametrize(
    ("raised", "error"),
    [
        (CanBusyError("busy"), "can_busy"),
        (CanPermissionError("denied"), "can_permission"),
        (CanAdapterError("odd"), "can_adapter_error"),
    ],
)
async def test_adapter_errors(
    hass: HomeAssistant, raised: CanAdapterError, error: str
) -> None:
    flow = await _can_form(hass)
    with patch(OPEN_BUS, side_effect=raised):
        result = await _submit(hass, flow, "socketcan", "can0")
    assert result["errors"] == {"base": error}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_configured_channel_aborts(
    hass: HomeAssistant, channel: str, battery: CanBroadcaster
) -> None:
    await setup_can(hass, can_entry(channel))
    result = await _submit(hass, await _can_form(hass), "virtual", channel)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_options_have_a_capacity_but_no_connection_or_password(
    hass: HomeAssistant, channel: str, battery: CanBroadcaster
) -> None:
    entry = can_entry(channel)
    await setup_can(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    fields = {str(key) for key in result["data_schema"].schema}
    assert CONF_KEEP_CONNECTED not in fields
    assert "password" not in fields
    assert CONF_UPDATE_INTERVAL in fields
    assert CONF_PACK_CAPACITY in fields
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_UPDATE_INTERVAL: 10, CONF_PACK_CAPACITY: 280}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_UPDATE_INTERVAL] == 10
    assert entry.options[CONF_PACK_CAPACITY] == 280
