"""Moving a bus to another port or baud rate: its packs must answer there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.lithium_bms.bus.kind import BusData
from custom_components.lithium_bms.const import (
    CONF_BAUDRATE,
    CONF_SERIAL_PORT,
    DOMAIN,
)

from .conftest import Line, bus_entry, setup_bus

pytestmark = pytest.mark.usefixtures("socket_enabled")

type StartLine = Callable[..., Awaitable[Line]]


async def _reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, url: str, baudrate: int = 9600
) -> ConfigFlowResult:
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_bus"
    defaults = result["data_schema"]({})
    assert defaults[CONF_SERIAL_PORT] == entry.data[CONF_SERIAL_PORT]
    assert defaults[CONF_BAUDRATE] == str(entry.data[CONF_BAUDRATE])
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERIAL_PORT: url, CONF_BAUDRATE: str(baudrate)}
    )


def _pack_voltage(hass: HomeAssistant, entry: MockConfigEntry) -> str | None:
    return er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_1_voltage"
    )


def _port(entry: MockConfigEntry) -> str:
    data = entry.runtime_data
    assert isinstance(data, BusData)
    return data.bus.settings.url


@pytest.mark.parametrize("tcp", [False, True], ids=["pty", "socket"])
async def test_moved_bus_keeps_its_packs_and_entities(
    hass: HomeAssistant, start_line: StartLine, tcp: bool
) -> None:
    old = await start_line("daly_a5", (1, 2))
    entry = bus_entry(old)
    await setup_bus(hass, entry)
    voltage = _pack_voltage(hass, entry)
    assert voltage is not None
    new = await start_line("daly_a5", (1, 2), tcp=tcp)
    result = await _reconfigure(hass, entry, f" {new.url} ", 9600)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_SERIAL_PORT] == new.url
    # The port is the bus's identity; its entities' ids derive from the entry id.
    assert entry.unique_id == new.url
    # A device path is shown by its name, a bridge by its address.
    label = new.url if tcp else new.url.rsplit("/", 1)[-1]
    assert entry.title == f"Daly A5 (UART / RS485) ({label})"
    assert entry.state is ConfigEntryState.LOADED
    assert _port(entry) == new.url
    assert _pack_voltage(hass, entry) == voltage
    state = hass.states.get(voltage)
    assert state is not None
    truth = getattr(new.packs[1], "pack")  # noqa: B009 - a demo responder's
    assert float(state.state) == pytest.approx(truth.voltage, abs=0.1)


async def test_a_port_without_the_packs_changes_nothing(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    old = await start_line("daly_a5", (1,))
    entry = bus_entry(old)
    await setup_bus(hass, entry)
    other = await start_line("daly_a5", (7,))
    result = await _reconfigure(hass, entry, other.url)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "packs_not_found"}
    assert entry.data[CONF_SERIAL_PORT] == old.url
    assert entry.state is ConfigEntryState.LOADED
    assert _port(entry) == old.url


async def test_a_port_speaking_another_protocol_changes_nothing(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    old = await start_line("daly_a5", (1,))
    entry = bus_entry(old)
    await setup_bus(hass, entry)
    other = await start_line("daly_a5", ())
    with patch.object(other.bus, "feed", lambda _: other.bus._emit(b"\x55\xaa")):
        result = await _reconfigure(hass, entry, other.url)
    assert result["errors"] == {"base": "unexpected_data"}
    assert entry.data[CONF_SERIAL_PORT] == old.url


async def test_a_missing_port_changes_nothing(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    old = await start_line("daly_a5", (1,))
    entry = bus_entry(old)
    await setup_bus(hass, entry)
    result = await _reconfigure(hass, entry, "/dev/serial/by-id/usb-nothing-here")
    assert result["errors"] == {"base": "port_not_found"}
    assert entry.data[CONF_SERIAL_PORT] == old.url
    assert entry.state is ConfigEntryState.LOADED


async def test_own_port_under_another_name_is_freed_for_the_scan(
    hass: HomeAssistant, start_line: StartLine, tmp_path: Path
) -> None:
    """The adapter's by-id link names the device the entry holds open."""
    line = await start_line("daly_a5", (1,))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    link = tmp_path / "usb-FTDI_RS485-if00-port0"
    link.symlink_to(line.url)
    result = await _reconfigure(hass, entry, str(link))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert _port(entry) == str(link)


async def test_own_port_is_set_up_again_when_the_packs_stay_silent(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1,))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    states: list[ConfigEntryState] = []
    feed = line.bus.feed

    def silent_while_unloaded(data: bytes) -> None:
        # The scan runs on the freed port; the packs answer only the entry.
        states.append(entry.state)
        if entry.state is not ConfigEntryState.NOT_LOADED:
            feed(data)

    with patch.object(line.bus, "feed", silent_while_unloaded):
        result = await _reconfigure(hass, entry, line.url, 19200)
        await hass.async_block_till_done()
    assert ConfigEntryState.NOT_LOADED in states
    assert result["errors"] == {"base": "packs_not_found"}
    assert entry.data[CONF_BAUDRATE] == 9600
    assert entry.state is ConfigEntryState.LOADED
    assert _port(entry) == line.url


async def test_the_port_of_another_bus_is_refused(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    first, second = await start_line("jbd", (0,)), await start_line("jbd", (0,))
    entry = bus_entry(first)
    await setup_bus(hass, entry)
    await setup_bus(hass, bus_entry(second))
    result = await _reconfigure(hass, entry, second.url)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_SERIAL_PORT] == first.url


async def _add_bus(hass: HomeAssistant, url: str) -> ConfigFlowResult:
    """Walk the user flow for a JBD bus on ``url`` up to its port step."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "wired"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"protocol": "jbd"}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERIAL_PORT: url, CONF_BAUDRATE: "9600"}
    )


async def test_after_a_move_the_old_port_is_free_and_the_new_one_taken(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    old, new = await start_line("jbd", (0,)), await start_line("jbd", (0,))
    entry = bus_entry(old)
    await setup_bus(hass, entry)
    result = await _reconfigure(hass, entry, new.url)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    result = await _add_bus(hass, new.url)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    result = await _add_bus(hass, old.url)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "wired_packs"
