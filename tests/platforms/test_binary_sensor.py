"""Binary sensors of every family: what is created, alarms, MOSFET states."""

from __future__ import annotations

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from syrupy.assertion import SnapshotAssertion

from custom_components.lithium_bms.const import DOMAIN

from .conftest import FamilySetup, entity_snapshot

PLATFORM = Platform.BINARY_SENSOR


async def test_entities_and_states(
    hass: HomeAssistant,
    family: FamilySetup,
    only_platform: None,
    snapshot: SnapshotAssertion,
) -> None:
    entry = await family.setup()
    assert entity_snapshot(hass, entry) == snapshot


async def test_an_alarm_shows_and_clears(
    hass: HomeAssistant, family: FamilySetup, only_platform: None
) -> None:
    if not family.case.alarms:
        pytest.skip(f"{family.case.name} reports no protection alarm")
    entry = await family.setup()
    coordinator = entry.runtime_data.coordinator
    assert family.state("binary_sensor", "problem") == STATE_OFF
    alarm = family.case.alarm
    family.device.pack.alarms = {alarm}
    await family.device_settles()
    await coordinator.async_refresh()
    assert family.state("binary_sensor", alarm) == STATE_ON
    assert family.state("binary_sensor", "problem") == STATE_ON
    # An under-voltage cuts the discharge MOSFET; the sensor follows the BMS.
    if "discharge_mosfet" in family.case.switches:
        assert family.state("binary_sensor", "discharge_mosfet_active") == STATE_OFF

    family.device.pack.alarms = set()
    await family.device_settles()
    await coordinator.async_refresh()
    assert family.state("binary_sensor", alarm) == STATE_OFF
    assert family.state("binary_sensor", "problem") == STATE_OFF


async def test_direction_follows_the_current(
    hass: HomeAssistant, family: FamilySetup, only_platform: None
) -> None:
    if family.case.name in {"jk04", "neey"}:
        pytest.skip("a JK04 or GW- balancer reports no current")
    entry = await family.setup()
    assert family.state("binary_sensor", "discharging") == STATE_ON
    assert family.state("binary_sensor", "charging") == STATE_OFF
    family.device.pack.current = 8.0
    await family.device_settles()
    await entry.runtime_data.coordinator.async_refresh()
    assert family.state("binary_sensor", "charging") == STATE_ON
    assert family.state("binary_sensor", "discharging") == STATE_OFF


async def test_a_bms_that_reports_no_protection_has_no_problem_sensor(
    hass: HomeAssistant, family: FamilySetup, only_platform: None
) -> None:
    entry = await family.setup()
    coordinator = entry.runtime_data.coordinator
    if coordinator.data.problem is not None:
        pytest.skip(f"{family.case.name} reports its protections")
    registry = er.async_get(hass)
    unique_id = f"{coordinator.pack.key}_problem"
    assert registry.async_get_entity_id(PLATFORM, DOMAIN, unique_id) is None
    # The one an earlier version created (always off) goes with the next setup.
    registry.async_get_or_create(PLATFORM, DOMAIN, unique_id, config_entry=entry)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get_entity_id(PLATFORM, DOMAIN, unique_id) is None
