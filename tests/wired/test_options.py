"""The options of a bus: settings, and a rescan that adds the packs found."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from bms_simulator.serial.registry import WIRED_DEMOS
from custom_components.lithium_bms.bus.kind import BusData
from custom_components.lithium_bms.const import (
    CONF_BUS_ADDRESS,
    CONF_PACKS,
    CONF_WIRING,
    DOMAIN,
)

from .conftest import Line, bus_entry, setup_bus

pytestmark = pytest.mark.usefixtures("socket_enabled")

type StartLine = Callable[..., Awaitable[Line]]


async def test_series_wiring_adds_the_pack_voltages(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1, 2))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "update_interval": 10,
            "invert_current": False,
            CONF_WIRING: "series",
            "chemistry": "lifepo4",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    data = entry.runtime_data
    assert isinstance(data, BusData)
    assert data.bank is not None
    assert data.bank.wiring.value == "series"
    voltage = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"bank_{entry.entry_id}_voltage"
    )
    assert voltage is not None
    total = sum(p.pack.voltage for p in line.packs.values())
    state = hass.states.get(voltage)
    assert state is not None
    assert float(state.state) == pytest.approx(total, abs=0.1)


async def test_contradictory_thresholds_keep_the_form(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("jbd", (0,))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "update_interval": 10,
            "invert_current": False,
            CONF_WIRING: "parallel",
            "chemistry": "lifepo4",
            "full_cell_voltage": 3.0,
            "empty_cell_voltage": 3.2,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_thresholds"}


async def test_a_rescan_adds_the_packs_that_joined(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1, 2))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    line.bus.add(WIRED_DEMOS["daly_a5"](4))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "rescan"}
    )
    assert result["step_id"] == "add_packs"
    assert result["description_placeholders"] == {"count": "1"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PACKS: ["4"]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "packs_added"
    await hass.async_block_till_done()
    assert [p[CONF_BUS_ADDRESS] for p in entry.data[CONF_PACKS]] == [1, 2, 4]
    voltage = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_4_voltage"
    )
    assert voltage is not None
    assert hass.states.get(voltage) is not None


async def test_a_rescan_with_nothing_new_says_so(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1,))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "rescan"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_new_packs"
