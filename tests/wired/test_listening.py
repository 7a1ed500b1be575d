"""A bus that another master owns: found by listening, read without a byte sent."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from bms_simulator.families.seplos import v3_master_polls
from bms_simulator.jk_wired import master_cycle
from custom_components.lithium_bms.const import (
    CONF_BUS_ADDRESS,
    CONF_LISTEN,
    CONF_PACKS,
    DOMAIN,
)
from custom_components.lithium_bms.protocol import registry

from .conftest import Line, bus_entry, setup_bus

pytestmark = pytest.mark.usefixtures("socket_enabled")

type StartLine = Callable[..., Awaitable[Line]]


@pytest.fixture(autouse=True)
def short_master_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated masters poll every few tens of milliseconds."""
    monkeypatch.setattr(
        registry,
        "WIRED_PROTOCOLS",
        tuple(
            dataclasses.replace(p, listen_window=0.8, reply_timeout=0.3)
            if p.listens
            else p
            for p in registry.WIRED_PROTOCOLS
        ),
    )


@pytest.fixture
async def seplos_master(start_line: StartLine) -> AsyncIterator[Line]:
    """Three Seplos V3 packs polled by their master pack."""
    line = await start_line("seplos_v3", (1, 2, 3))
    polls = v3_master_polls((1, 2, 3))
    task = asyncio.ensure_future(line.bus.master(*polls, interval=0.01, count=10**6))
    yield line
    task.cancel()


def _voltage(hass: HomeAssistant, key: str) -> float:
    entity = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, key)
    assert entity is not None, key
    state = hass.states.get(entity)
    assert state is not None
    return float(state.state)


async def test_the_flow_hears_the_master_and_reads_every_pack_by_listening(
    hass: HomeAssistant, seplos_master: Line
) -> None:
    line = seplos_master
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "wired"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"protocol": "seplos_v3"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"serial_port": line.url, "baudrate": "19200"}
    )
    assert result["step_id"] == "wired_packs"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"packs": ["1", "2", "3"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_LISTEN] is True
    await hass.async_block_till_done()
    entry = result["result"]
    for address, pack in line.packs.items():
        truth = pack.pack
        voltage = _voltage(hass, f"{entry.entry_id}_{address}_voltage")
        assert voltage == pytest.approx(truth.voltage, abs=0.05)
    assert line.bus.received == b""  # not one byte sent, ever


async def test_a_master_that_appears_later_turns_the_bus_to_listening(
    hass: HomeAssistant, seplos_master: Line
) -> None:
    entry = bus_entry(seplos_master, listen=False)
    await setup_bus(hass, entry)
    assert entry.data[CONF_LISTEN] is True
    assert entry.runtime_data.listening
    assert seplos_master.bus.received == b""


async def test_switching_on_a_bus_a_master_owns_is_refused_and_sends_nothing(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("jk_pb", (1, 2))
    task = asyncio.ensure_future(master_cycle(line.bus, (1, 2), cycles=10**6))
    try:
        entry = bus_entry(line, listen=True)
        await setup_bus(hass, entry)
        switch = er.async_get(hass).async_get_entity_id(
            "switch", DOMAIN, f"{entry.entry_id}_1_charge_mosfet"
        )
        assert switch is not None
        before = hass.states.get(switch)
        assert before is not None
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                "switch", "turn_off", {"entity_id": switch}, blocking=True
            )
        assert refused.value.translation_key == "bus_owned"
        assert refused.value.translation_placeholders == {"switch": "Charge MOSFET"}
        assert line.bus.received == b""
        assert line.packs[1].pack.charge_enabled is True
        after = hass.states.get(switch)
        assert after is not None
        assert after.state == before.state
    finally:
        task.cancel()


async def test_a_master_on_a_bus_whose_protocol_cannot_listen_is_not_talked_over(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("pace", (1, 2))
    task = asyncio.ensure_future(
        line.bus.master(b"~20014A420000FDA2\r", interval=0.05, count=10**6)
    )
    try:
        entry = bus_entry(line)
        await setup_bus(hass, entry)
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert entry.error_reason_translation_key == "master_on_bus"
        assert line.bus.received == b""
    finally:
        task.cancel()


async def test_a_pack_the_master_starts_polling_is_added_by_listening(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("seplos_v3", (1, 2, 3))
    polls = asyncio.ensure_future(
        line.bus.master(*v3_master_polls((1, 2, 3)), interval=0.01, count=10**6)
    )
    try:
        entry = bus_entry(line, listen=True)
        entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(
            entry,
            data={
                **entry.data,
                CONF_PACKS: [{CONF_BUS_ADDRESS: 1}, {CONF_BUS_ADDRESS: 2}],
            },
        )
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await entry.runtime_data.async_find_new_packs(hass)
        await hass.async_block_till_done()
        assert [p[CONF_BUS_ADDRESS] for p in entry.data[CONF_PACKS]] == [1, 2, 3]
        assert 3 in entry.runtime_data.packs
        voltage = _voltage(hass, f"{entry.entry_id}_3_voltage")
        assert voltage == pytest.approx(line.packs[3].pack.voltage, abs=0.05)
        assert line.bus.received == b""
    finally:
        polls.cancel()


async def test_a_bus_moved_to_a_port_a_master_owns_is_read_by_listening(
    hass: HomeAssistant, start_line: StartLine, seplos_master: Line
) -> None:
    old = await start_line("seplos_v3", (1, 2, 3))
    entry = bus_entry(old)
    await setup_bus(hass, entry)
    assert entry.data[CONF_LISTEN] is False
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"serial_port": seplos_master.url, "baudrate": "19200"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_LISTEN] is True
    assert entry.runtime_data.listening
    voltage = _voltage(hass, f"{entry.entry_id}_1_voltage")
    assert voltage == pytest.approx(seplos_master.packs[1].pack.voltage, abs=0.05)
    assert seplos_master.bus.received == b""
