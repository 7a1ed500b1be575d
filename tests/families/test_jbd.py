"""JBD end to end through the virtual proxy: entities, switches, faults, unload."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from bms_simulator.device import Fault
from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms.const import DOMAIN

from ..conftest import JBD_ADDRESS, setup_entry

PREFIX = "jbd_sp04s034"

EXPECTED_UNIQUE_KEYS = {
    "voltage", "current", "power", "state_of_charge", "remaining_capacity",
    "full_capacity", "design_capacity", "cycles", "cell_voltage_min",
    "cell_voltage_max", "cell_voltage_delta", "cell_voltage_average", "runtime",
    "cell_voltage_1", "cell_voltage_2", "cell_voltage_3", "cell_voltage_4",
    "temperature_1", "temperature_2", "temperature_3", "rssi",
    "charging", "discharging", "balancing", "problem", "charge_mosfet_active",
    "discharge_mosfet_active", "cell_overvoltage", "cell_undervoltage",
    "pack_overvoltage", "pack_undervoltage", "charge_overtemperature",
    "charge_undertemperature", "discharge_overtemperature",
    "discharge_undertemperature", "charge_overcurrent", "discharge_overcurrent",
    "short_circuit", "frontend_error", "mosfet_lock",
    "charge_mosfet", "discharge_mosfet", "charge_energy", "discharge_energy",
    "estimated_state_of_charge", "state_of_charge_drift", "cell_imbalance",
    "weak_cell", "first_cell_at_knee", "standby_days_until_empty",
    *(f"estimated_cell_resistance_{i}" for i in range(1, 5)),
}  # fmt: skip


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


async def test_entities_and_states(hass: HomeAssistant, jbd: JbdSimulator) -> None:
    jbd.pack.balancing_cells = {2}
    entry = await setup_entry(hass, jbd, "jbd")
    assert entry.state is ConfigEntryState.LOADED
    registry = er.async_get(hass)
    entities = er.async_entries_for_config_entry(registry, entry.entry_id)
    keys = {e.unique_id.removeprefix(f"{JBD_ADDRESS}_") for e in entities}
    assert keys == EXPECTED_UNIQUE_KEYS
    assert registry.async_get(f"sensor.{PREFIX}_signal_strength").disabled_by

    assert state(hass, f"sensor.{PREFIX}_voltage") == "13.21"
    assert state(hass, f"sensor.{PREFIX}_current") == "-2.5"
    assert state(hass, f"sensor.{PREFIX}_power") == str(round(13.21 * -2.5, 2))
    assert state(hass, f"sensor.{PREFIX}_battery") == "64.0"
    assert state(hass, f"sensor.{PREFIX}_remaining_capacity") == "64.0"
    assert state(hass, f"sensor.{PREFIX}_full_capacity") == "100.0"
    assert state(hass, f"sensor.{PREFIX}_cycles") == "3"
    for index, volts in enumerate(jbd.pack.cell_voltages, start=1):
        assert state(hass, f"sensor.{PREFIX}_cell_{index}_voltage") == str(volts)
    assert state(hass, f"sensor.{PREFIX}_minimum_cell_voltage") == "3.299"
    assert state(hass, f"sensor.{PREFIX}_maximum_cell_voltage") == "3.305"
    assert state(hass, f"sensor.{PREFIX}_cell_voltage_delta") == "0.006"
    assert state(hass, f"sensor.{PREFIX}_average_cell_voltage") == "3.302"
    assert state(hass, f"sensor.{PREFIX}_temperature_3") == "23.1"
    # 64 Ah at 2.5 A: 25.6 h.
    assert state(hass, f"sensor.{PREFIX}_runtime") == str(25.6 * 3600 / 3600)
    assert state(hass, f"binary_sensor.{PREFIX}_charging") == STATE_OFF
    assert state(hass, f"binary_sensor.{PREFIX}_discharging") == STATE_ON
    assert state(hass, f"binary_sensor.{PREFIX}_balancing") == STATE_ON
    assert state(hass, f"binary_sensor.{PREFIX}_problem") == STATE_OFF
    assert state(hass, f"binary_sensor.{PREFIX}_cell_overvoltage") == STATE_OFF
    assert state(hass, f"switch.{PREFIX}_charge_mosfet") == STATE_ON
    assert state(hass, f"switch.{PREFIX}_discharge_mosfet") == STATE_ON

    # The entry's one device (async_get_device raises in tests from HA 2026.10).
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert (DOMAIN, JBD_ADDRESS) in device.identifiers
    assert device.manufacturer == "Jiabaida (JBD)"
    assert device.model == "JBD-SP04S034-L4S-200A-B-U"
    assert device.sw_version == "8.0"
    assert (dr.CONNECTION_BLUETOOTH, JBD_ADDRESS) in device.connections


async def test_alarm_and_update(hass: HomeAssistant, jbd: JbdSimulator) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    jbd.pack.alarms = {"cell_overvoltage"}
    jbd.pack.current = 4.0
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state(hass, f"binary_sensor.{PREFIX}_cell_overvoltage") == STATE_ON
    assert state(hass, f"binary_sensor.{PREFIX}_problem") == STATE_ON
    assert state(hass, f"binary_sensor.{PREFIX}_charging") == STATE_ON
    # Over-voltage cuts the charge MOSFET: the BMS reports it off.
    assert state(hass, f"binary_sensor.{PREFIX}_charge_mosfet_active") == STATE_OFF
    assert state(hass, f"sensor.{PREFIX}_runtime") == "unknown"
    assert entry.runtime_data.coordinator.data.protection_code == 1


@pytest.mark.parametrize(
    ("entity", "attribute"),
    [("charge_mosfet", "charge_enabled"), ("discharge_mosfet", "discharge_enabled")],
)
async def test_switches(
    hass: HomeAssistant, jbd: JbdSimulator, entity: str, attribute: str
) -> None:
    await setup_entry(hass, jbd, "jbd")
    entity_id = f"switch.{PREFIX}_{entity}"
    other = "discharge_enabled" if attribute == "charge_enabled" else "charge_enabled"
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    assert getattr(jbd.pack, attribute) is False
    assert getattr(jbd.pack, other) is True
    assert state(hass, entity_id) == STATE_OFF
    assert state(hass, f"binary_sensor.{PREFIX}_mosfet_software_lock") == STATE_ON
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    assert getattr(jbd.pack, attribute) is True
    assert state(hass, entity_id) == STATE_ON


async def switch(hass: HomeAssistant, entity: str, on: bool) -> None:
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: f"switch.{PREFIX}_{entity}"},
        blocking=True,
    )


async def test_switching_charge_keeps_a_protected_discharge(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    # Issue 10: the loads come back once the under-voltage clears.
    await setup_entry(hass, jbd, "jbd")
    jbd.pack.alarms = {"cell_undervoltage"}
    await switch(hass, "charge_mosfet", False)
    await switch(hass, "charge_mosfet", True)
    assert (jbd.pack.charge_enabled, jbd.pack.discharge_enabled) == (True, True)
    assert state(hass, f"switch.{PREFIX}_discharge_mosfet") == STATE_OFF
    jbd.pack.alarms = set()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state(hass, f"switch.{PREFIX}_discharge_mosfet") == STATE_ON


async def test_the_mask_survives_a_restart(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    # Charge switched off by the user; then an under-voltage holds discharge
    # off too, so the BMS shows nothing of the mask (both off, lock set).
    # After a restart, switching discharge on must not re-enable charge.
    entry = await setup_entry(hass, jbd, "jbd")
    await switch(hass, "charge_mosfet", False)
    jbd.pack.alarms = {"cell_undervoltage"}
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    # The protection keeps the MOSFET off, so "on" cannot be confirmed yet.
    with pytest.raises(HomeAssistantError, match="did not confirm"):
        await switch(hass, "discharge_mosfet", True)
    assert (jbd.pack.charge_enabled, jbd.pack.discharge_enabled) == (False, True)


async def test_off_the_bms_cannot_confirm(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    # A short circuit holds both MOSFETs off and the lock is already set: the
    # BMS shows nothing that tells an applied "off" from an ignored one.
    await setup_entry(hass, jbd, "jbd")
    jbd.pack.alarms = {"short_circuit"}
    await switch(hass, "charge_mosfet", False)
    with pytest.raises(HomeAssistantError, match="shows nothing that confirms it"):
        await switch(hass, "discharge_mosfet", False)
    assert jbd.pack.discharge_enabled is False
    assert state(hass, f"switch.{PREFIX}_discharge_mosfet") == STATE_OFF


async def test_refused_and_ignored_commands(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    await setup_entry(hass, jbd, "jbd")
    entity_id = f"switch.{PREFIX}_discharge_mosfet"
    jbd.inject(Fault.IGNORE_COMMAND)
    with pytest.raises(HomeAssistantError, match="did not confirm"):
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
        )
    await hass.async_block_till_done()
    assert jbd.pack.discharge_enabled is True
    assert state(hass, entity_id) == STATE_ON, "shows the state read back"

    jbd.refuse_commands = True
    with pytest.raises(HomeAssistantError, match="did not confirm"):
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
        )
    jbd.refuse_commands = False

    jbd.inject(Fault.NO_ANSWER, 3)
    with pytest.raises(HomeAssistantError, match="Could not send"):
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
        )
    assert jbd.pack.discharge_enabled is True


async def test_silent_device_at_start_retries(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    jbd.inject(Fault.NO_ANSWER, 2)
    entry = await setup_entry(hass, jbd, "jbd")
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert not jbd.connected, "the failed attempt released the connection"


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.NO_ANSWER, "did not answer in time"),
        (Fault.DISCONNECT_MID_FRAME, "failed or was lost"),
        (Fault.BAD_CHECKSUM, "failed validation"),
        (Fault.TRUNCATED, "did not answer in time"),
    ],
)
async def test_fault_makes_entities_unavailable_then_recovers(
    hass: HomeAssistant,
    jbd: JbdSimulator,
    caplog: pytest.LogCaptureFixture,
    fault: Fault,
    message: str,
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    coordinator = entry.runtime_data.coordinator
    voltage = f"sensor.{PREFIX}_voltage"
    caplog.set_level(logging.INFO)
    caplog.clear()
    jbd.inject(fault, 4)
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    assert state(hass, voltage) == STATE_UNAVAILABLE
    assert state(hass, f"switch.{PREFIX}_charge_mosfet") == STATE_UNAVAILABLE
    failures = [r for r in caplog.records if "Error fetching" in r.getMessage()]
    assert len(failures) == 1, "logged once per outage"
    assert message in failures[0].getMessage()
    jbd.faults.clear()
    jbd.pack.cell_voltages[0] = 3.401
    await coordinator.async_refresh()
    assert state(hass, voltage) == "13.31"
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1


async def test_impossible_value_makes_entities_unavailable_then_recovers(
    hass: HomeAssistant,
    jbd: JbdSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A cell at 6.5 V is refused by the gate: no entity shows it or a stale value."""
    entry = await setup_entry(hass, jbd, "jbd")
    coordinator = entry.runtime_data.coordinator
    cell = f"sensor.{PREFIX}_cell_1_voltage"
    voltage = f"sensor.{PREFIX}_voltage"
    caplog.set_level(logging.INFO)
    caplog.clear()
    jbd.pack.cell_voltages[0] = 6.5
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    assert state(hass, cell) == STATE_UNAVAILABLE
    assert state(hass, voltage) == STATE_UNAVAILABLE
    assert state(hass, f"switch.{PREFIX}_charge_mosfet") == STATE_UNAVAILABLE
    failures = [r for r in caplog.records if "Error fetching" in r.getMessage()]
    assert len(failures) == 1, "logged once per outage"
    assert "no real pack can show" in failures[0].getMessage()
    assert "cell 1 voltage" in failures[0].getMessage()
    assert coordinator.client.stats.implausible_snapshots == 2
    jbd.pack.cell_voltages[0] = 3.401
    await coordinator.async_refresh()
    assert state(hass, cell) == "3.401"
    assert state(hass, voltage) == "13.31"


async def test_pairing_required_raises_repair(
    hass: HomeAssistant, jbd: JbdSimulator
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    coordinator = entry.runtime_data.coordinator
    await coordinator.client.close()
    services = JbdSimulator.services
    jbd.services = ()  # what BlueZ shows an unpaired JK 19.3x: no services
    await coordinator.async_refresh()
    issue_id = f"pairing_required_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    jbd.services = services
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_diagnostics(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, jbd: JbdSimulator
) -> None:
    jbd.password = "Secr3t"
    entry = await setup_entry(hass, jbd, "jbd", {"password": "Secr3t"})
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["data"]["address"] == "**REDACTED**"
    assert diagnostics["entry"]["options"]["password"] == "**REDACTED**"
    assert diagnostics["entry"]["unique_id"] == "**REDACTED**"
    assert diagnostics["family"] == "jbd"
    assert diagnostics["snapshot"]["cell_voltages"] == jbd.pack.cell_voltages
    assert diagnostics["device_info"]["model"] == "JBD-SP04S034-L4S-200A-B-U"
    assert diagnostics["connection"]["connects"] == 1
    assert {f["direction"] for f in diagnostics["raw_frames"]} == {"tx", "rx"}
    sent = [f["hex"] for f in diagnostics["raw_frames"] if f["direction"] == "tx"]
    # The FF AA exchange (both ways) carries the password keyed with the MAC
    # and a random: kept only by size.
    assert sent[:5] == [
        "redacted (11 bytes)",  # app key
        "redacted (5 bytes)",  # random request
        "redacted (11 bytes)",  # password
        "redacted (5 bytes)",  # random request
        "redacted (20 bytes)",  # root password
    ]
    assert "ffaa" not in str(diagnostics["raw_frames"])
    assert "dda50300fffd77" in sent
    assert JBD_ADDRESS not in str(diagnostics)
    assert JBD_ADDRESS.replace(":", "").lower() not in str(diagnostics).lower()
