"""A bus entry: a device per pack under the bus, the bank, faults, removal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.pack import PackModel
from bms_simulator.serial.registry import WIRED_DEMOS
from custom_components.lithium_bms import async_remove_config_entry_device
from custom_components.lithium_bms.bus.coordinator import STALE_AFTER
from custom_components.lithium_bms.bus.kind import BusData
from custom_components.lithium_bms.const import CONF_BUS_ADDRESS, CONF_PACKS, DOMAIN
from custom_components.lithium_bms.devices import entry_device
from custom_components.lithium_bms.protocol.serial.bus import forget_bus, shared_bus
from custom_components.lithium_bms.repairs import async_create_fix_flow

from .conftest import Line, bus_entry, setup_bus

pytestmark = pytest.mark.usefixtures("socket_enabled")

type StartLine = Callable[..., Awaitable[Line]]


class Clock:
    """The wall clock the stale-pack rule reads, moved by the test."""

    def __init__(self) -> None:
        self.now = dt_util.utcnow()

    def tick(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Iterator[Clock]:
    """Time travel for the wall clock only (the loop's timers run as usual)."""
    moved = Clock()
    with patch(
        "custom_components.lithium_bms.bus.coordinator.dt_util.utcnow",
        side_effect=lambda: moved.now,
    ):
        yield moved


def pack_model(line: Line, address: int) -> PackModel:
    """The ground truth of the simulated pack at ``address``."""
    return line.packs[address].pack


def entity_id(
    hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str
) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, key)
    assert found is not None, key
    return found


def state(hass: HomeAssistant, entity: str) -> str:
    current = hass.states.get(entity)
    assert current is not None, entity
    return current.state


def runtime(entry: MockConfigEntry) -> BusData:
    data = entry.runtime_data
    assert isinstance(data, BusData)
    return data


async def refresh(entry: MockConfigEntry) -> None:
    for pack in runtime(entry).packs.values():
        await pack.async_refresh()


async def test_each_pack_is_a_device_under_the_bus_with_its_values(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1, 2, 5))
    pack_model(line, 2).current = -12.5
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    bus = entry_device(hass, entry.entry_id, f"bus_{entry.entry_id}")
    assert bus is not None
    for address in (1, 2, 5):
        key = f"{entry.entry_id}_{address}"
        device = entry_device(hass, entry.entry_id, key)
        assert device is not None
        assert device.via_device_id == bus.id
        assert device.name == f"Daly A5 pack {address}"
        truth = pack_model(line, address)
        voltage = entity_id(hass, entry, "sensor", f"{key}_voltage")
        assert float(state(hass, voltage)) == pytest.approx(truth.voltage, abs=0.1)
        current = entity_id(hass, entry, "sensor", f"{key}_current")
        assert float(state(hass, current)) == pytest.approx(truth.current, abs=0.1)
    # The bus is the bank: its entities sit on the bus device.
    bank_current = entity_id(hass, entry, "sensor", f"bank_{entry.entry_id}_current")
    assert float(state(hass, bank_current)) == pytest.approx(-12.5, abs=0.1)
    assert er.async_get(hass).async_get(bank_current).device_id == bus.id


async def test_a_single_pack_bus_has_no_bank(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("jbd", (0,))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    assert runtime(entry).bank is None
    assert not [
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.unique_id.startswith("bank_")
    ]


async def test_a_pack_silent_at_setup_gets_its_entities_when_it_answers(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1,))
    entry = bus_entry(line)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry,
        data={**entry.data, CONF_PACKS: [{CONF_BUS_ADDRESS: 1}, {CONF_BUS_ADDRESS: 3}]},
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    registry = er.async_get(hass)
    late = f"{entry.entry_id}_3_voltage"
    assert registry.async_get_entity_id("sensor", DOMAIN, late) is None
    line.bus.add(WIRED_DEMOS["daly_a5"](3))
    await refresh(entry)
    await hass.async_block_till_done()
    voltage = entity_id(hass, entry, "sensor", late)
    assert state(hass, voltage) != STATE_UNAVAILABLE


async def test_no_pack_answering_retries_the_setup(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1,))
    entry = bus_entry(line)
    line.bus.responders.clear()
    await setup_bus(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "no_pack_answers"


async def test_a_missing_port_retries_the_setup_with_its_reason(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("jbd", (0,))
    entry = bus_entry(line)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id="/dev/serial/by-id/gone",
        data={**entry.data, "serial_port": "/dev/serial/by-id/gone"},
    )
    await setup_bus(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "port_not_found"


async def test_unplugged_bridge_makes_the_packs_unavailable_until_it_returns(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1, 2), tcp=True)
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    voltage = entity_id(hass, entry, "sensor", f"{entry.entry_id}_1_voltage")
    assert state(hass, voltage) != STATE_UNAVAILABLE
    await line.endpoint.stop()  # type: ignore[union-attr]
    await refresh(entry)
    await refresh(entry)
    await hass.async_block_till_done()
    assert state(hass, voltage) == STATE_UNAVAILABLE
    await line.endpoint.start()  # type: ignore[union-attr]
    await refresh(entry)
    await hass.async_block_till_done()
    assert state(hass, voltage) != STATE_UNAVAILABLE


async def test_a_switch_over_the_wire_is_confirmed_and_touches_nothing_else(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1, 2))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    switch = entity_id(hass, entry, "switch", f"{entry.entry_id}_2_charge_mosfet")
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": switch}, blocking=True
    )
    assert state(hass, switch) == "off"
    assert pack_model(line, 2).charge_enabled is False
    assert pack_model(line, 2).discharge_enabled is True
    assert pack_model(line, 1).charge_enabled is True


async def test_a_pack_silent_for_an_hour_raises_a_repair_that_removes_it(
    hass: HomeAssistant, start_line: StartLine, clock: Clock
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    line = await start_line("daly_a5", (1, 2))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    issue_id = f"pack_gone_{entry.entry_id}_2"
    line.bus.remove(line.packs[2])
    await refresh(entry)
    clock.tick(STALE_AFTER - timedelta(minutes=1))
    await refresh(entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    clock.tick(timedelta(minutes=2))
    await refresh(entry)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    # The fix removes the pack and its device; the bus reloads with pack 1.
    flow = await async_create_fix_flow(hass, issue_id, issue.data)
    flow.hass = hass
    flow.issue_id = issue_id
    result = await flow.async_step_init()
    assert result["description_placeholders"]["address"] == "2"
    await flow.async_step_confirm({})
    await hass.async_block_till_done()
    assert [p[CONF_BUS_ADDRESS] for p in entry.data[CONF_PACKS]] == [1]
    assert entry_device(hass, entry.entry_id, f"{entry.entry_id}_2") is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert entry.state is ConfigEntryState.LOADED


async def test_a_pack_that_answers_is_back_and_its_repair_goes(
    hass: HomeAssistant, start_line: StartLine, clock: Clock
) -> None:
    line = await start_line("daly_a5", (1, 2))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    responder = line.packs[2]
    line.bus.remove(responder)
    await refresh(entry)
    clock.tick(STALE_AFTER + timedelta(minutes=1))
    await refresh(entry)
    issue_id = f"pack_gone_{entry.entry_id}_2"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    line.bus.add(responder)
    await refresh(entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_only_a_silent_pack_device_can_be_deleted(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("daly_a5", (1, 2))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    one = entry_device(hass, entry.entry_id, f"{entry.entry_id}_1")
    bus = entry_device(hass, entry.entry_id, f"bus_{entry.entry_id}")
    assert one is not None
    assert bus is not None
    assert not await async_remove_config_entry_device(hass, entry, one)
    assert not await async_remove_config_entry_device(hass, entry, bus)
    line.bus.remove(line.packs[1])
    await refresh(entry)
    assert await async_remove_config_entry_device(hass, entry, one)
    await hass.async_block_till_done()
    assert [p[CONF_BUS_ADDRESS] for p in entry.data[CONF_PACKS]] == [2]


async def test_unload_frees_the_port(
    hass: HomeAssistant, start_line: StartLine
) -> None:
    line = await start_line("jbd", (0,))
    entry = bus_entry(line)
    await setup_bus(hass, entry)
    bus = runtime(entry).bus
    assert bus.is_open
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert not bus.is_open
    # Another owner may now take the port with other settings.
    other = shared_bus(bus.settings.__class__(bus.settings.url, 19200))
    assert other is not bus
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    forget_bus(other)
