"""Sensors of every family: what is created, their states, outages."""

from __future__ import annotations

from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from syrupy.assertion import SnapshotAssertion

from .conftest import FamilySetup, entity_snapshot

PLATFORM = Platform.SENSOR


async def test_entities_and_states(
    hass: HomeAssistant,
    family: FamilySetup,
    only_platform: None,
    snapshot: SnapshotAssertion,
) -> None:
    entry = await family.setup()
    assert entity_snapshot(hass, entry) == snapshot


async def test_cells_follow_the_pack(
    hass: HomeAssistant, family: FamilySetup, only_platform: None
) -> None:
    entry = await family.setup()
    value, shown = family.case.changed_cell
    family.device.pack.cell_voltages[0] = value
    # Without cells, the pack's sum shows the change.
    key, expected = (
        ("cell_voltage_1", shown)
        if family.case.cells
        else ("voltage", family.case.changed_voltage)
    )
    # A streamed frame built just before the change may still be on its way
    # on a busy machine: the next one carries it.
    for _ in range(5):
        await family.device_settles()
        await entry.runtime_data.coordinator.async_refresh()
        if family.state("sensor", key) == expected:
            break
    assert family.state("sensor", key) == expected
    if family.case.cells:
        assert family.state("sensor", "cell_voltage_max") == shown


async def test_silent_device_goes_unavailable_then_recovers(
    hass: HomeAssistant, family: FamilySetup, only_platform: None
) -> None:
    entry = await family.setup()
    coordinator = entry.runtime_data.coordinator
    family.device.hung = True
    await family.device_settles()
    for _ in range(3):
        await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert family.state("sensor", "voltage") == STATE_UNAVAILABLE
    cell, shown = family.case.changed_cell
    key, value = (
        ("cell_voltage_1", shown)
        if family.case.cells
        else ("voltage", family.case.changed_voltage)
    )
    assert family.state("sensor", key) == STATE_UNAVAILABLE

    family.device.hung = False
    family.device.pack.cell_voltages[0] = cell
    await coordinator.async_refresh()
    await family.device_settles()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert family.state("sensor", key) == value
