"""The wired config flow: protocol, port, scan, packs; its errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from unittest.mock import Mock, patch

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import selector

from custom_components.lithium_bms.const import (
    CONF_BUS_ADDRESS,
    CONF_KIND,
    CONF_LISTEN,
    CONF_PACKS,
    DOMAIN,
    KIND_BUS,
)
from custom_components.lithium_bms.protocol.registry import wired_protocol

from .conftest import Line, bus_entry, setup_bus

pytestmark = pytest.mark.usefixtures("socket_enabled")

type StartLine = Callable[..., Awaitable[Line]]

SCAN_PORTS = "homeassistant.components.usb.utils.scan_serial_ports"


async def _to_port_form(hass: HomeAssistant, key: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "wired" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "wired"}
    )
    assert result["step_id"] == "wired"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"protocol": key}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "wired_port"
    return result


async def _submit_port(
    hass: HomeAssistant, flow: dict[str, Any], url: str, baudrate: int | None = None
) -> dict[str, Any]:
    return await hass.config_entries.flow.async_configure(
        flow["flow_id"],
        {"serial_port": url, "baudrate": str(baudrate or 9600)},
    )


@pytest.mark.parametrize("tcp", [False, True], ids=["pty", "socket"])
async def test_the_scan_lists_every_pack_and_adds_the_chosen(
    hass: HomeAssistant, start_line: StartLine, tcp: bool
) -> None:
    line = await start_line("daly_a5", (1, 2, 5), tcp=tcp)
    flow = await _to_port_form(hass, "daly_a5")
    result = await _submit_port(hass, flow, line.url)
    assert result["step_id"] == "wired_packs"
    assert result["description_placeholders"] == {"count": "3"}
    assert result["data_schema"]({})[CONF_PACKS] == ["1", "2", "5"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PACKS: ["1", "5"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_KIND] == KIND_BUS
    assert result["data"][CONF_LISTEN] is False
    assert result["data"][CONF_PACKS] == [
        {CONF_BUS_ADDRESS: 1},
        {CONF_BUS_ADDRESS: 5},
    ]
    assert result["result"].unique_id == line.url
    await hass.async_block_till_done()


async def test_a_port_that_does_not_exist_keeps_the_form(hass: HomeAssistant) -> None:
    flow = await _to_port_form(hass, "jbd")
    result = await _submit_port(hass, flow, "/dev/serial/by-id/usb-nothing-here")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "wired_port"
    assert result["errors"] == {"base": "port_not_found"}
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.parametrize(
    ("url", "error"),
    [("socket://127.0.0.1:1", "port_unreachable"), ("socket://", "invalid_port")],
)
async def test_a_url_that_does_not_connect(
    hass: HomeAssistant, url: str, error: str
) -> None:
    flow = await _to_port_form(hass, "jbd")
    result = await _submit_port(hass, flow, url)
    assert result["errors"] == {"base": error}


async def test_nothing_answering(hass: HomeAssistant, start_line: StartLine) -> None:
    line = await start_line("daly_a5", ())
    flow = await _to_port_form(hass, "jbd")
    result = await _submit_port(hass, flow, line.url)
    assert result["errors"] == {"base": "no_packs"}


async def test_a_bus_that_speaks_another_protocol(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", ())
    flow = await _to_port_form(hass, "jbd")
    # A device of some other protocol answers every request with its own bytes.
    with patch.object(line.bus, "feed", lambda _: line.bus._emit(b"\x55\xaa")):
        result = await _submit_port(hass, flow, line.url)
    assert result["errors"] == {"base": "unexpected_data"}


async def test_choosing_no_pack_keeps_the_form(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("jbd", (0,))
    flow = await _to_port_form(hass, "jbd")
    result = await _submit_port(hass, flow, line.url)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PACKS: []}
    )
    assert result["errors"] == {CONF_PACKS: "no_pack_chosen"}


async def test_a_configured_port_aborts(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("jbd", (0,))
    await setup_bus(hass, bus_entry(line))
    flow = await _to_port_form(hass, "jbd")
    result = await _submit_port(hass, flow, line.url)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_the_protocol_default_baud_rate_is_preselected(
    hass: HomeAssistant,
) -> None:
    flow = await _to_port_form(hass, "jbd")
    defaults = flow["data_schema"]({"serial_port": "/dev/ttyUSB0"})
    assert defaults["baudrate"] == str(wired_protocol("jbd").baudrate)


OWN_PICKER = hasattr(selector, "SerialPortSelector")


@pytest.mark.skipif(OWN_PICKER, reason="Home Assistant lists the ports itself")
async def test_the_host_ports_are_listed_on_older_home_assistant(
    hass: HomeAssistant,
) -> None:
    ports = [
        Mock(device="/dev/serial/by-id/usb-FTDI_FT232R-if00-port0"),
        Mock(device="/dev/ttyAMA0"),
    ]
    with patch(SCAN_PORTS, return_value=ports):
        flow = await _to_port_form(hass, "pace")
    field = flow["data_schema"].schema["serial_port"]
    config = field.config
    assert list(config["options"]) == [p.device for p in ports]
    assert config["custom_value"] is True  # a path or URL may be typed in


@pytest.mark.skipif(OWN_PICKER, reason="Home Assistant lists the ports itself")
async def test_a_port_list_that_fails_still_takes_a_typed_path(
    hass: HomeAssistant,
) -> None:
    with patch(SCAN_PORTS, side_effect=OSError("no sysfs")):
        flow = await _to_port_form(hass, "pace")
    assert flow["data_schema"].schema["serial_port"].config["options"] == []


@pytest.mark.skipif(not OWN_PICKER, reason="Home Assistant 2026.5 and later")
async def test_home_assistant_s_own_port_picker_is_used(hass: HomeAssistant) -> None:
    flow = await _to_port_form(hass, "pace")
    picker = flow["data_schema"].schema["serial_port"]
    assert isinstance(picker, selector.SerialPortSelector)  # type: ignore[attr-defined]
