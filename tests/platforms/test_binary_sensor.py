"""Binary sensors of every family: what is created, alarms, MOSFET states."""

from __future__ import annotations

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from syrupy.assertion import SnapshotAssertion

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
