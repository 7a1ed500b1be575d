"""JK end to end through the virtual proxy: layouts, stream, switches, pairing."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.components.bluetooth import async_discovered_service_info
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import SOURCE_BLUETOOTH, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_ADDRESS,
    SERVICE_TURN_OFF,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from bms_simulator.device import Advertising, Fault
from bms_simulator.families.jk import JkLayout, JkSimulator
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.const import (
    CONF_FAMILY,
    CONF_INVERT_CURRENT,
    CONF_KEEP_CONNECTED,
    CONF_UPDATE_INTERVAL,
    CONF_VARIANT,
    DOMAIN,
)
from custom_components.lithium_bms.protocol.jk import JkDriver

from ..conftest import setup_entry
from .discovery import AddDevice

JK_ADDRESS = "C8:47:8C:12:34:56"
PREFIX = "jk_bms"
PERIOD = 0.05
SETTINGS_REQUEST = bytes.fromhex("aa5590eb96" + "00" * 14 + "10")


# Entities every layout has (JK04 reports cells, balancing and no current sensor).
COMMON_KEYS = {
    "voltage", "cell_voltage_min", "cell_voltage_max",
    "cell_voltage_delta", "cell_voltage_average", "balance_current",
    *(f"cell_voltage_{i}" for i in range(1, 9)),
    *(f"cell_resistance_{i}" for i in range(1, 9)),
    "rssi", "balancing", "cell_imbalance", "balancer",
}  # fmt: skip
# Derived from the measured current: JK04 has no current sensor, so none of
# these is shown for it (a placeholder 0 A would be a wrong value).
CURRENT_KEYS = {
    "current", "power", "runtime", "charging", "discharging", "charge_energy",
    "discharge_energy", "estimated_state_of_charge", "state_of_charge_drift",
    # Pack health learns from the current too.
    "weak_cell", "first_cell_at_knee",
    *(f"estimated_cell_resistance_{i}" for i in range(1, 9)),
}  # fmt: skip
JK02_KEYS = CURRENT_KEYS | {
    # JK04 reports no protection state: no problem sensor.
    "problem",
    "state_of_charge", "state_of_health", "remaining_capacity", "full_capacity",
    "design_capacity", "cycles", "mosfet_temperature", "temperature_1",
    "standby_days_until_empty", "mosfet_overheating_risk",
    "temperature_2", "charge_mosfet_active", "discharge_mosfet_active",
    "charge_mosfet", "discharge_mosfet",
    # The 16 low bits of the error map.
    "wire_resistance", "mosfet_overtemperature", "cell_count_mismatch",
    "pack_overvoltage", "charge_overcurrent", "short_circuit",
    "charge_overtemperature", "charge_undertemperature", "coprocessor_error",
    "cell_undervoltage", "pack_undervoltage", "discharge_overcurrent",
    "discharge_overtemperature",
}  # fmt: skip
JK02_32S_KEYS = {
    # The simulated pack leaves the third extra probe slot empty: no entity.
    "heater", "temperature_3", "temperature_4",
    # The high bits of the 32-bit error map.
    "mosfet_fault", "temperature_sensor_fault", "discharge_undertemperature",
}  # fmt: skip
EXPECTED_KEYS = {
    JkLayout.JK04: COMMON_KEYS,
    JkLayout.JK02_24S: COMMON_KEYS | JK02_KEYS,
    JkLayout.JK02_32S: COMMON_KEYS | JK02_KEYS | JK02_32S_KEYS,
}


@pytest.fixture(autouse=True)
def fast_confirm(monkeypatch: pytest.MonkeyPatch) -> None:
    """No 0.2 s settle time between a switch write and its read-back.

    The stream counts as paused after 20 ms (simulated frames come every
    ``PERIOD``), so a frame waits for its successor no longer than that.
    """
    monkeypatch.setattr(JkDriver, "confirm_delay", 0.01)
    monkeypatch.setattr(JkDriver, "pause_timeout", 0.02)


def make_jk(
    layout: JkLayout = JkLayout.JK02_32S,
    name: str = "JK-BMS",
    address: str = JK_ADDRESS,
) -> JkSimulator:
    """An 8-cell JK pack streaming every ``PERIOD`` seconds."""
    pack = PackModel(
        cell_voltages=[3.301, 3.312, 3.325, 3.298, 3.305, 3.31, 3.299, 3.307],
        current=-12.345,
        soc=67,
        full_capacity=95.5,
        design_capacity=100.0,
        cycles=42,
        temperatures=[18.5, 19.5, 20.5, 21.5],
        mosfet_temperature=27.3,
        balancing_cells={2},
        state_of_health=96,
    )
    sim = JkSimulator(address, name, pack, layout=layout)
    sim.period = PERIOD
    sim.balance_current = 0.123
    return sim


@pytest.fixture
async def jk(add_device: AddDevice) -> JkSimulator:
    """A simulated JK-PB (JK02_32S), advertised through the proxy."""
    sim = make_jk()
    await add_device(sim)
    return sim


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def settings_requests(sim: JkSimulator) -> int:
    return sim.writes.count(SETTINGS_REQUEST)


async def quiet_periods() -> None:
    """Let two stream periods pass (real time) while the stream sends nothing."""
    await asyncio.sleep(PERIOD * 2)


# Discovery


def _jk_flows(hass: HomeAssistant) -> list[Any]:
    return [
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"].get("unique_id") == JK_ADDRESS
    ]


async def test_discovery_starts_a_flow(hass: HomeAssistant, jk: JkSimulator) -> None:
    flows = _jk_flows(hass)
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == SOURCE_BLUETOOTH
    assert flows[0]["context"]["title_placeholders"] == {"name": "JK-BMS"}
    assert jk.connections == 0, "no connection before the user confirms"


async def test_renamed_jk_with_other_company_id_is_discovered(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = make_jk(name="BatteryOben-00")
    mac = bytes.fromhex(JK_ADDRESS.replace(":", ""))
    sim.advertising = Advertising(
        name="BatteryOben-00",
        service_uuids=sim.advertising.service_uuids,
        manufacturer_data={0x4B4A: b"\x88\xa0" + mac},
    )
    await add_device(sim)
    flows = _jk_flows(hass)
    assert len(flows) == 1
    assert flows[0]["context"]["title_placeholders"] == {"name": "BatteryOben-00"}
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "BatteryOben-00"
    assert result["data"][CONF_FAMILY] == "jk"


async def test_ffe0_without_jk_company_id_is_not_jk(
    hass: HomeAssistant, add_device: AddDevice
) -> None:
    sim = make_jk(name="BatteryOben-00")
    sim.advertising = Advertising(
        name="BatteryOben-00", service_uuids=sim.advertising.service_uuids
    )
    await add_device(sim)
    assert not _jk_flows(hass)
    info = next(
        i for i in async_discovered_service_info(hass) if i.address == JK_ADDRESS
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_BLUETOOTH}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_supported"


@pytest.mark.parametrize("layout", list(JkLayout))
async def test_discovery_confirm_stores_family_and_variant(
    hass: HomeAssistant, add_device: AddDevice, layout: JkLayout
) -> None:
    await add_device(make_jk(layout))
    flow = _jk_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_ADDRESS: JK_ADDRESS,
        CONF_FAMILY: "jk",
        CONF_VARIANT: layout.value,
    }
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert state(hass, f"sensor.{PREFIX}_cell_1_voltage") == "3.301"


async def test_confirm_reports_pairing_required(
    hass: HomeAssistant, jk: JkSimulator
) -> None:
    jk.needs_pairing = True
    flow = _jk_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "pairing_required"}
    jk.needs_pairing = False
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY


# Entities and states


@pytest.mark.parametrize("layout", list(JkLayout))
async def test_entities_match_the_layout(
    hass: HomeAssistant, add_device: AddDevice, layout: JkLayout
) -> None:
    sim = make_jk(layout)
    await add_device(sim)
    sim.heating = True
    entry = await setup_entry(hass, sim, "jk")
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_VARIANT] == layout.value
    registry = er.async_get(hass)
    entities = er.async_entries_for_config_entry(registry, entry.entry_id)
    keys = {e.unique_id.removeprefix(f"{JK_ADDRESS}_") for e in entities}
    assert keys == EXPECTED_KEYS[layout]
    for index in range(1, 9):
        resistance = registry.async_get(f"sensor.{PREFIX}_cell_{index}_resistance")
        assert resistance is not None
        assert resistance.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert resistance.entity_category is not None

    pack = sim.pack
    for index, volts in enumerate(pack.cell_voltages, start=1):
        assert state(hass, f"sensor.{PREFIX}_cell_{index}_voltage") == str(volts)
    voltage = round(sum(pack.cell_voltages), 3)
    assert state(hass, f"sensor.{PREFIX}_voltage") == str(voltage)
    assert state(hass, f"sensor.{PREFIX}_minimum_cell_voltage") == "3.298"
    assert state(hass, f"sensor.{PREFIX}_maximum_cell_voltage") == "3.325"
    assert state(hass, f"sensor.{PREFIX}_cell_voltage_delta") == "0.027"
    assert state(hass, f"sensor.{PREFIX}_balance_current") == "0.123"
    assert state(hass, f"binary_sensor.{PREFIX}_balancing") == STATE_ON
    assert state(hass, f"switch.{PREFIX}_balancer") == STATE_ON

    # The entry's one device (async_get_device raises in tests from HA 2026.10).
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert (DOMAIN, JK_ADDRESS) in device.identifiers
    assert device.manufacturer == "Jikong (JK)"
    assert device.model == sim.model
    assert device.hw_version == sim.hw_version
    assert device.sw_version == sim.sw_version
    assert device.serial_number == sim.serial_number
    if layout is JkLayout.JK04:
        return

    assert state(hass, f"sensor.{PREFIX}_current") == "-12.345"
    assert state(hass, f"sensor.{PREFIX}_power") == str(round(voltage * -12.345, 2))
    assert state(hass, f"sensor.{PREFIX}_battery") == "67.0"
    assert state(hass, f"sensor.{PREFIX}_state_of_health") == "96.0"
    assert state(hass, f"sensor.{PREFIX}_remaining_capacity") == "63.985"
    assert state(hass, f"sensor.{PREFIX}_full_capacity") == "95.5"
    assert state(hass, f"sensor.{PREFIX}_design_capacity") == "100.0"
    assert state(hass, f"sensor.{PREFIX}_cycles") == "42"
    assert float(state(hass, f"sensor.{PREFIX}_runtime")) == pytest.approx(
        63.985 / 12.345,
        abs=0.05,  # shown to a tenth of an hour
    )
    assert state(hass, f"sensor.{PREFIX}_temperature_1") == "18.5"
    assert state(hass, f"sensor.{PREFIX}_temperature_2") == "19.5"
    assert state(hass, f"sensor.{PREFIX}_mosfet_temperature") == "27.3"
    assert state(hass, f"binary_sensor.{PREFIX}_discharging") == STATE_ON
    assert state(hass, f"binary_sensor.{PREFIX}_charge_mosfet_active") == STATE_ON
    assert state(hass, f"binary_sensor.{PREFIX}_problem") == STATE_OFF
    assert state(hass, f"switch.{PREFIX}_charge_mosfet") == STATE_ON
    assert state(hass, f"switch.{PREFIX}_discharge_mosfet") == STATE_ON
    if layout is JkLayout.JK02_32S:
        assert state(hass, f"sensor.{PREFIX}_temperature_3") == "20.5"
        assert state(hass, f"sensor.{PREFIX}_temperature_4") == "21.5"
        assert hass.states.get(f"sensor.{PREFIX}_temperature_5") is None
        assert state(hass, f"binary_sensor.{PREFIX}_heater") == STATE_ON


@pytest.mark.parametrize("layout", list(JkLayout))
async def test_enabled_cell_resistance_shows_the_value(
    hass: HomeAssistant, add_device: AddDevice, layout: JkLayout
) -> None:
    sim = make_jk(layout)
    await add_device(sim)
    sim.cell_resistances[1] = 0.087
    entry = await setup_entry(hass, sim, "jk")
    entity_id = f"sensor.{PREFIX}_cell_2_resistance"
    er.async_get(hass).async_update_entity(entity_id, disabled_by=None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, entity_id) == "0.087"


# Switches

SWITCH_CASES = [
    (JkLayout.JK04, "balancer", "balancer_enabled"),
    (JkLayout.JK02_24S, "charge_mosfet", "charge_enabled"),
    (JkLayout.JK02_24S, "discharge_mosfet", "discharge_enabled"),
    (JkLayout.JK02_24S, "balancer", "balancer_enabled"),
    (JkLayout.JK02_32S, "charge_mosfet", "charge_enabled"),
    (JkLayout.JK02_32S, "discharge_mosfet", "discharge_enabled"),
    (JkLayout.JK02_32S, "balancer", "balancer_enabled"),
]
SWITCH_ATTRIBUTES = {
    "charge_mosfet": "charge_enabled",
    "discharge_mosfet": "discharge_enabled",
    "balancer": "balancer_enabled",
}


def _switches(layout: JkLayout) -> dict[str, str]:
    if layout is JkLayout.JK04:
        return {"balancer": "balancer_enabled"}
    return SWITCH_ATTRIBUTES


@pytest.mark.parametrize(
    ("layout", "switch", "attribute"),
    [SWITCH_CASES[0], SWITCH_CASES[2], SWITCH_CASES[4]],
)
async def test_ignored_command_raises_and_shows_the_state_read(
    hass: HomeAssistant,
    add_device: AddDevice,
    layout: JkLayout,
    switch: str,
    attribute: str,
) -> None:
    sim = make_jk(layout)
    await add_device(sim)
    await setup_entry(hass, sim, "jk")
    entity_id = f"switch.{PREFIX}_{switch}"
    sim.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(HomeAssistantError, match="did not confirm"):
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
        )
    await hass.async_block_till_done()
    assert getattr(sim.pack, attribute) is True
    assert state(hass, entity_id) == STATE_ON, "shows the state read back"
    for other, other_attribute in _switches(layout).items():
        assert getattr(sim.pack, other_attribute) is True
        assert state(hass, f"switch.{PREFIX}_{other}") == STATE_ON


async def test_protection_trip_shows_in_the_mosfet_sensor(
    hass: HomeAssistant, jk: JkSimulator
) -> None:
    entry = await setup_entry(hass, jk, "jk")
    coordinator = entry.runtime_data.coordinator
    active = f"binary_sensor.{PREFIX}_charge_mosfet_active"
    assert state(hass, active) == STATE_ON
    # Cell over-voltage has no error bit of its own on a JK: only the MOSFET shows it.
    jk.pack.alarms = {"cell_overvoltage"}
    await jk.stream_advances()
    await coordinator.async_refresh()
    assert state(hass, active) == STATE_OFF
    assert state(hass, f"switch.{PREFIX}_charge_mosfet") == STATE_ON
    assert state(hass, f"binary_sensor.{PREFIX}_discharge_mosfet_active") == STATE_ON
    assert jk.pack.charge_enabled is True
    jk.pack.alarms = {"discharge_overcurrent"}
    await jk.stream_advances()
    await coordinator.async_refresh()
    assert state(hass, active) == STATE_ON
    assert state(hass, f"binary_sensor.{PREFIX}_discharge_mosfet_active") == STATE_OFF
    assert state(hass, f"binary_sensor.{PREFIX}_discharge_overcurrent") == STATE_ON
    assert state(hass, f"binary_sensor.{PREFIX}_problem") == STATE_ON
    assert state(hass, f"switch.{PREFIX}_discharge_mosfet") == STATE_ON


# The stream


async def test_updates_cost_no_request(hass: HomeAssistant, jk: JkSimulator) -> None:
    entry = await setup_entry(hass, jk, "jk")
    coordinator = entry.runtime_data.coordinator
    writes = len(jk.writes)
    for current in (1.5, -3.25, 7.0, -0.5):
        jk.pack.current = current
        await jk.stream_advances()
        await coordinator.async_refresh()
        assert state(hass, f"sensor.{PREFIX}_current") == str(current)
    assert len(jk.writes) == writes
    assert jk.connections == 1


async def test_stopped_stream_is_restarted(
    hass: HomeAssistant, jk: JkSimulator
) -> None:
    entry = await setup_entry(hass, jk, "jk")
    coordinator = entry.runtime_data.coordinator
    await jk.stream_advances()
    jk.streaming = False
    await quiet_periods()
    requests = settings_requests(jk)
    await coordinator.async_refresh()  # the frames that came before the stop
    assert settings_requests(jk) == requests
    jk.pack.cell_voltages[0] = 3.333
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert settings_requests(jk) == requests + 1, "re-initialised the stream"
    assert jk.streaming
    assert state(hass, f"sensor.{PREFIX}_cell_1_voltage") == "3.333"
    assert jk.connections == 1, "on the same connection"


async def test_hung_device_goes_unavailable_then_recovers(
    hass: HomeAssistant, jk: JkSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await setup_entry(hass, jk, "jk")
    coordinator = entry.runtime_data.coordinator
    voltage = f"sensor.{PREFIX}_voltage"
    caplog.set_level(logging.INFO)
    caplog.clear()
    jk.hung = True
    await quiet_periods()
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert state(hass, voltage) == STATE_UNAVAILABLE
    assert state(hass, f"switch.{PREFIX}_charge_mosfet") == STATE_UNAVAILABLE
    failures = [r for r in caplog.records if "Error fetching" in r.getMessage()]
    assert len(failures) == 1, "logged once per outage"
    assert "did not answer in time" in failures[0].getMessage()
    jk.hung = False
    jk.pack.cell_voltages[0] = 3.401
    await coordinator.async_refresh()
    assert state(hass, voltage) == str(round(sum(jk.pack.cell_voltages), 3))
    assert state(hass, f"switch.{PREFIX}_charge_mosfet") == STATE_ON
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1


async def test_lost_settings_keep_telemetry_and_leave_switches_unknown(
    hass: HomeAssistant, jk: JkSimulator
) -> None:
    entry = await setup_entry(hass, jk, "jk")
    coordinator = entry.runtime_data.coordinator
    # A new session whose settings answers get lost (the start and one retry).
    await coordinator.client.close()
    jk.lost_settings = 2
    jk.pack.current = 3.5
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert state(hass, f"sensor.{PREFIX}_current") == "3.5"
    assert state(hass, f"sensor.{PREFIX}_battery") == "67.0"
    assert state(hass, f"binary_sensor.{PREFIX}_charge_mosfet_active") == STATE_ON
    for switch in SWITCH_ATTRIBUTES:
        assert state(hass, f"switch.{PREFIX}_{switch}") == STATE_UNKNOWN
    assert state(hass, f"sensor.{PREFIX}_design_capacity") == STATE_UNKNOWN
    assert jk.lost_settings == 0, "the settings were asked for again"

    jk.pack.current = -4.0
    await coordinator.async_refresh()
    assert state(hass, f"sensor.{PREFIX}_current") == "-4.0"
    for switch in SWITCH_ATTRIBUTES:
        assert state(hass, f"switch.{PREFIX}_{switch}") == STATE_ON
    assert state(hass, f"sensor.{PREFIX}_design_capacity") == "100.0"


async def test_settings_lost_at_setup_create_unknown_switches(
    hass: HomeAssistant, jk: JkSimulator
) -> None:
    jk.lost_settings = 2
    entry = await setup_entry(hass, jk, "jk")
    assert entry.state is ConfigEntryState.LOADED
    assert state(hass, f"sensor.{PREFIX}_cell_3_voltage") == "3.325"
    for switch in SWITCH_ATTRIBUTES:
        assert state(hass, f"switch.{PREFIX}_{switch}") == STATE_UNKNOWN
    await entry.runtime_data.coordinator.async_refresh()
    for switch in SWITCH_ATTRIBUTES:
        assert state(hass, f"switch.{PREFIX}_{switch}") == STATE_ON


# Pairing


async def test_pairing_needed_retries_with_a_repair(
    hass: HomeAssistant, jk: JkSimulator
) -> None:
    jk.needs_pairing = True
    entry = await setup_entry(hass, jk, "jk")
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "needs Bluetooth pairing on the host" in (entry.reason or "")
    assert "19.31" in (entry.reason or "")
    issue_id = f"pairing_required_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "pairing_required"
    assert issue.translation_placeholders == {"name": "JK-BMS", "address": JK_ADDRESS}
    assert not jk.connected, "the failed attempt released the connection"

    jk.needs_pairing = False  # paired on the host
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


# Update interval


async def test_two_second_interval_streams_without_requests(
    hass: HomeAssistant, jk: JkSimulator
) -> None:
    entry = await setup_entry(hass, jk, "jk")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_UPDATE_INTERVAL: 2,
            CONF_KEEP_CONNECTED: True,
            CONF_INVERT_CURRENT: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    assert coordinator.update_interval == timedelta(seconds=2)
    writes = len(jk.writes)
    now = dt_util.utcnow()
    for step, current in enumerate((2.25, -6.5), start=1):
        jk.pack.current = current
        await jk.stream_advances()
        async_fire_time_changed(hass, now + timedelta(seconds=2.1 * step))
        await hass.async_block_till_done(wait_background_tasks=True)
        assert state(hass, f"sensor.{PREFIX}_current") == str(current)
    assert len(jk.writes) == writes
