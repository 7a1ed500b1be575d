"""A CAN battery in Home Assistant: its entities, silence, garbage, a lost adapter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import can
import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bms_simulator.can import CanBroadcaster, demo_pack
from custom_components.lithium_bms.const import (
    CONF_CAN_BITRATE,
    CONF_CAN_CHANNEL,
    CONF_CAN_JK_ADDRESS,
    CONF_MEMBERS,
    CONF_WIRING,
    DOMAIN,
)
from custom_components.lithium_bms.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.lithium_bms.protocol.can import transport as transport_module
from custom_components.lithium_bms.protocol.can.errors import CanNotFoundError
from custom_components.lithium_bms.protocol.can.transport import (
    CanSettings,
    CanTransport,
)

from .conftest import can_entry, setup_can, until

type State = Callable[[MockConfigEntry, str, str], str | None]


async def test_entities_show_what_the_battery_broadcasts(
    hass: HomeAssistant, entry: MockConfigEntry, battery: CanBroadcaster, state: State
) -> None:
    pack = battery.pack
    assert state(entry, "sensor", "voltage") == str(round(pack.voltage, 2))
    assert state(entry, "sensor", "current") == "-12.5"
    assert state(entry, "sensor", "power") is not None
    assert state(entry, "sensor", "state_of_charge") == "76"
    assert state(entry, "sensor", "state_of_health") == "98"
    assert state(entry, "sensor", "temperature_1") == "23.4"
    assert state(entry, "sensor", "charge_voltage_limit") == "53.2"
    assert state(entry, "sensor", "discharge_voltage_limit") == "44.8"
    assert state(entry, "sensor", "charge_current_limit") == "100.0"
    assert state(entry, "sensor", "discharge_current_limit") == "150.0"
    assert state(entry, "sensor", "manufacturer_name") == "PYLON"
    assert state(entry, "sensor", "charge_energy") is not None
    # The estimate needs a capacity, which the protocol does not carry.
    assert state(entry, "sensor", "estimated_state_of_charge") == STATE_UNKNOWN
    assert state(entry, "binary_sensor", "charge_enabled") == STATE_ON
    assert state(entry, "binary_sensor", "discharge_enabled") == STATE_ON
    assert state(entry, "binary_sensor", "force_charge") == STATE_OFF
    assert state(entry, "binary_sensor", "full_charge_request") == STATE_OFF
    assert state(entry, "binary_sensor", "problem") == STATE_OFF
    assert state(entry, "binary_sensor", "pack_overvoltage") == STATE_OFF
    # No cells, no MOSFETs, no switches, no signal strength: the protocol has none.
    assert state(entry, "sensor", "cell_voltage_1") is None
    assert state(entry, "binary_sensor", "charge_mosfet_active") is None
    assert state(entry, "switch", "charge_mosfet") is None
    assert state(entry, "sensor", "rssi") is None
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.unique_id}_voltage"
    )
    assert entity_id is not None
    registered = er.async_get(hass).async_get(entity_id)
    assert registered is not None
    assert registered.device_id is not None
    device = dr.async_get(hass).async_get(registered.device_id)
    assert device is not None
    assert (DOMAIN, entry.unique_id) in device.identifiers
    assert device.manufacturer == "PYLON"
    assert device.model == "Pylontech CAN, 2 modules"
    assert not device.connections


async def test_the_users_capacity_gives_the_estimate(
    hass: HomeAssistant, channel: str, battery: CanBroadcaster, state: State
) -> None:
    """With a capacity in the options the estimate starts from the BMS's SOC."""
    entry = can_entry(channel, pack_capacity=200.0)
    await setup_can(hass, entry)
    estimate = state(entry, "sensor", "estimated_state_of_charge")
    assert estimate not in {None, STATE_UNKNOWN, STATE_UNAVAILABLE}
    # Seeded at the broadcast 76 %, then counted down by the -12.5 A.
    assert 75.0 < float(estimate) <= 76.0
    # The capacity sensors stay what the BMS reports: nothing.
    assert state(entry, "sensor", "design_capacity") is None


async def test_a_v13_battery_shows_its_alarms_and_capacities(
    hass: HomeAssistant, channel: str, state: State
) -> None:
    """0x35A gives the alarms, 0x35F the remaining and 0x379 the installed Ah."""
    sim = CanBroadcaster(demo_pack(), version="1.3", installed_capacity=True)
    sim.start("virtual", channel)
    try:
        entry = can_entry(channel)
        await setup_can(hass, entry)
        assert state(entry, "sensor", "remaining_capacity") == "76"
        assert state(entry, "sensor", "design_capacity") == "100"
        # The installed capacity gives the estimate its capacity.
        estimate = state(entry, "sensor", "estimated_state_of_charge")
        assert estimate not in {None, STATE_UNKNOWN, STATE_UNAVAILABLE}
        assert state(entry, "binary_sensor", "problem") == STATE_OFF
        assert state(entry, "binary_sensor", "short_circuit") == STATE_OFF
        assert state(entry, "binary_sensor", "cell_voltage_difference") == STATE_OFF
        # V1.3 sends no 0x35C: no request entities.
        assert state(entry, "binary_sensor", "charge_enabled") is None
        assert state(entry, "binary_sensor", "force_charge") is None
        coordinator = entry.runtime_data.coordinator
        sim.pack.alarms = {"short_circuit"}

        async def shown() -> bool:
            await asyncio.sleep(0.01)
            await coordinator.async_refresh()
            return state(entry, "binary_sensor", "short_circuit") == STATE_ON

        for _ in range(500):
            if await shown():
                break
        assert state(entry, "binary_sensor", "short_circuit") == STATE_ON
        assert state(entry, "binary_sensor", "problem") == STATE_ON
    finally:
        await sim.stop()


async def test_a_jk_battery_shows_every_cell(
    hass: HomeAssistant, channel: str, state: State
) -> None:
    """A bus with JK's own frames only: the reading and its cells."""
    pack = demo_pack()
    pack.cell_voltages = [3.301 + i / 1000 for i in range(16)]
    sim = CanBroadcaster(pack, version="jk")
    sim.start("virtual", channel)
    try:
        entry = can_entry(channel)
        await setup_can(hass, entry)
        assert state(entry, "sensor", "voltage") == str(round(pack.voltage, 1))
        assert state(entry, "sensor", "current") == "-12.5"
        assert state(entry, "sensor", "state_of_charge") == "76"
        assert state(entry, "sensor", "cell_voltage_1") == "3.301"
        assert state(entry, "sensor", "cell_voltage_16") == "3.316"
        assert state(entry, "sensor", "cell_voltage_17") is None
        assert state(entry, "sensor", "cell_voltage_delta") == "0.015"
        assert state(entry, "sensor", "temperature_1") == "23.0"
        assert state(entry, "sensor", "remaining_capacity") == "76.0"
        assert state(entry, "sensor", "cycles") == "3"
        # JK's alarm frame is not read: no alarm entities, no Pylontech limits.
        assert state(entry, "binary_sensor", "pack_overvoltage") is None
        assert state(entry, "sensor", "charge_voltage_limit") is None
        # The entry's one device (async_get_device raises in tests from HA 2026.10).
        [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        assert (device.manufacturer, device.model) == ("JK BMS", "JK CAN")
    finally:
        await sim.stop()


async def test_a_growatt_protocol_battery_shows_every_cell(
    hass: HomeAssistant, channel: str, state: State
) -> None:
    """A Seplos pack answering a Growatt inverter: the reading and its cells."""
    pack = demo_pack()
    pack.cell_voltages = [3.301 + i / 1000 for i in range(16)]
    pack.temperatures = [21.0, 24.5]
    sim = CanBroadcaster(pack, manufacturer="SEPLOS", version="growatt")
    sim.start("virtual", channel)
    try:
        entry = can_entry(channel)
        await setup_can(hass, entry)
        assert state(entry, "sensor", "voltage") == str(round(pack.voltage, 2))
        assert state(entry, "sensor", "current") == "-12.5"
        assert state(entry, "sensor", "state_of_charge") == "76"
        assert state(entry, "sensor", "state_of_health") == "98"
        assert state(entry, "sensor", "cell_voltage_1") == "3.301"
        assert state(entry, "sensor", "cell_voltage_16") == "3.316"
        assert state(entry, "sensor", "cell_voltage_17") is None
        assert state(entry, "sensor", "temperature_1") == "24.5"
        assert state(entry, "sensor", "charge_voltage_limit") == "53.2"
        assert state(entry, "sensor", "manufacturer_name") == "SE"
        # 0x314 and the alarm bits are not read.
        assert state(entry, "sensor", "remaining_capacity") is None
        assert state(entry, "binary_sensor", "pack_overvoltage") is None
        [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        assert (device.manufacturer, device.model) == ("SE", "Growatt CAN, 2 packs")
    finally:
        await sim.stop()


async def test_jk_cells_beside_pylontech_frames(
    hass: HomeAssistant, channel: str, state: State
) -> None:
    """JK's cell frames on a Pylontech bus: the cells join the reading."""
    sim = CanBroadcaster(demo_pack(), jk_cells=True)
    sim.start("virtual", channel)
    try:
        entry = can_entry(channel)
        await setup_can(hass, entry)
        assert state(entry, "sensor", "voltage") == str(round(sim.pack.voltage, 2))
        assert state(entry, "sensor", "cell_voltage_1") == "3.325"
        assert state(entry, "sensor", "cell_voltage_16") == "3.325"
        assert state(entry, "binary_sensor", "pack_overvoltage") == STATE_OFF
    finally:
        await sim.stop()


async def test_alarms_and_requests_follow_the_battery(
    hass: HomeAssistant, entry: MockConfigEntry, battery: CanBroadcaster, state: State
) -> None:
    coordinator = entry.runtime_data.coordinator
    battery.pack.alarms = {"discharge_overcurrent"}
    battery.limits.force_charge = True
    battery.limits.charge_current = 25.0

    async def shown() -> bool:
        await asyncio.sleep(0.01)
        await coordinator.async_refresh()
        return (
            state(entry, "binary_sensor", "problem") == STATE_ON
            and state(entry, "binary_sensor", "force_charge") == STATE_ON
            and state(entry, "sensor", "charge_current_limit") == "25.0"
        )

    for _ in range(500):
        if await shown():
            break
    assert state(entry, "binary_sensor", "problem") == STATE_ON
    assert state(entry, "binary_sensor", "discharge_overcurrent") == STATE_ON
    assert state(entry, "binary_sensor", "force_charge") == STATE_ON
    assert state(entry, "sensor", "charge_current_limit") == "25.0"


async def test_silence_is_unavailable_logged_once_then_resumes(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    battery: CanBroadcaster,
    state: State,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = entry.runtime_data.coordinator
    battery.silent = True
    caplog.set_level(logging.INFO)
    for _ in range(100):
        await asyncio.sleep(0.01)
        await coordinator.async_refresh()
        if not coordinator.last_update_success:
            break
    for _ in range(2):
        await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert state(entry, "sensor", "voltage") == STATE_UNAVAILABLE
    assert state(entry, "sensor", "charge_voltage_limit") == STATE_UNAVAILABLE
    failures = [
        r for r in caplog.records if "No Pylontech, Growatt or JK CAN" in r.getMessage()
    ]
    assert len(failures) == 1
    assert failures[0].levelno == logging.ERROR

    battery.silent = False
    for _ in range(100):
        await asyncio.sleep(0.01)
        await coordinator.async_refresh()
        if coordinator.last_update_success:
            break
    assert state(entry, "sensor", "voltage") == str(round(battery.pack.voltage, 2))
    assert any("recovered" in r.getMessage() for r in caplog.records)


async def test_garbage_and_unknown_ids_are_never_published(
    hass: HomeAssistant, entry: MockConfigEntry, battery: CanBroadcaster, state: State
) -> None:
    coordinator = entry.runtime_data.coordinator
    good = battery.messages
    battery.messages = lambda: [  # type: ignore[method-assign]
        *good(),
        can.Message(
            arbitration_id=0x355, data=b"\x65\x00\x64\x00", is_extended_id=False
        ),
        can.Message(arbitration_id=0x356, data=b"\x01", is_extended_id=False),
        can.Message(arbitration_id=0x35A, data=bytes(8), is_extended_id=False),
        can.Message(arbitration_id=0x1806E5F4, data=bytes(8)),
        can.Message(is_error_frame=True),
    ]
    driver = coordinator.client.driver
    await until(lambda: driver.decoder.stats.malformed >= 4)
    for _ in range(5):
        await asyncio.sleep(0.01)
        await coordinator.async_refresh()
        assert coordinator.last_update_success
        assert state(entry, "sensor", "state_of_charge") == "76"
        assert state(entry, "sensor", "voltage") == str(round(battery.pack.voltage, 2))
    assert driver.decoder.stats.unknown >= 2
    transport = driver.transport
    assert isinstance(transport, CanTransport)
    assert transport.error_frames >= 1


async def test_lost_adapter_is_unavailable_then_reconnects(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    battery: CanBroadcaster,
    state: State,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coordinator = entry.runtime_data.coordinator
    client = coordinator.client
    transport = client.driver.transport
    assert isinstance(transport, CanTransport)
    bus = transport._bus
    assert bus is not None

    def unplugged(timeout: float | None = None) -> can.Message | None:
        raise can.CanOperationError("[Errno 100] Network is down")

    def gone(settings: CanSettings) -> can.BusABC:
        raise CanNotFoundError(f"{settings.channel}: [Errno 19] No such device")

    monkeypatch.setattr(bus, "recv", unplugged)
    monkeypatch.setattr(transport_module, "open_bus", gone)
    await until(lambda: not client.is_connected)
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert state(entry, "sensor", "voltage") == STATE_UNAVAILABLE
    assert client.stats.lost_connections == 1

    monkeypatch.undo()
    for _ in range(100):
        await asyncio.sleep(0.01)
        await coordinator.async_refresh()
        if coordinator.last_update_success:
            break
    assert state(entry, "sensor", "state_of_charge") == "76"
    assert client.stats.connects == 2


async def test_adapter_missing_at_start_retries(
    hass: HomeAssistant, channel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def gone(settings: CanSettings) -> can.BusABC:
        raise CanNotFoundError("no such device")

    monkeypatch.setattr(transport_module, "open_bus", gone)
    entry = can_entry(channel)
    await setup_can(hass, entry)
    assert entry.state.name == "SETUP_RETRY"
    assert "CAN adapter" in (entry.reason or "")


@pytest.mark.parametrize(
    "edit",
    [
        {CONF_CAN_BITRATE: "fast"},
        {CONF_CAN_BITRATE: -1},
        {CONF_CAN_CHANNEL: None},
        {CONF_CAN_JK_ADDRESS: 12},
        {CONF_CAN_JK_ADDRESS: "two"},
    ],
)
async def test_edited_storage_is_a_clear_setup_error(
    hass: HomeAssistant, channel: str, edit: dict[str, object]
) -> None:
    """A hand-edited entry: a translated error, nothing set up, no traceback."""
    entry = can_entry(channel)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data={**entry.data, **edit},
    )
    await setup_can(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "stored settings" in entry.reason


async def test_diagnostics_and_unload(
    hass: HomeAssistant, entry: MockConfigEntry, battery: CanBroadcaster
) -> None:
    found = await async_get_config_entry_diagnostics(hass, entry)
    assert found["family"] == "can"
    assert found["snapshot"]["manufacturer_name"] == "PYLON"
    assert found["raw_frames"]
    assert found["advertisement"] is None
    client = entry.runtime_data.coordinator.client
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert not client.is_connected


async def test_two_can_batteries_form_a_bank(
    hass: HomeAssistant, entry: MockConfigEntry, battery: CanBroadcaster, state: State
) -> None:
    second = CanBroadcaster(demo_pack(), manufacturer="DEYE")
    second.pack.current = -7.5
    second.start("virtual", "lithium_bms_ha_second")
    try:
        other = can_entry("lithium_bms_ha_second")
        await setup_can(hass, other)
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        assert "bank" in result["menu_options"]
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "bank"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                "name": "Rack",
                CONF_MEMBERS: [entry.entry_id, other.entry_id],
                CONF_WIRING: "parallel",
            },
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        bank = hass.states.get("sensor.rack_current")
        assert bank is not None
        assert bank.state == "-20.0"
    finally:
        await second.stop()


async def test_removing_the_entry_closes_the_bus(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    client = entry.runtime_data.coordinator.client
    result = await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert result == {"require_restart": False}
    assert not client.is_connected
    assert not hass.config_entries.async_entries(DOMAIN)
