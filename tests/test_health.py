"""Pack health through Home Assistant: entities, restarts and the storage repair."""

from __future__ import annotations

import math
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from bms_simulator.device import SimulatedBms
from bms_simulator.families.daly import DalySimulator
from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms import tracker
from custom_components.lithium_bms.const import CONF_STORAGE_WARNING_DAYS, DOMAIN

from .conftest import make_entry, setup_entry
from .test_tracking import Clock, _tick

JBD = "jbd_sp04s034"
DALY = "dl_b4e8426a0001"
RESISTANCE = (0.0005, 0.0010, 0.0005, 0.0005)  # cell 2 has twice the others'


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The trackers' clocks, advanced by hand (as in the tracking tests)."""
    found = Clock()
    monkeypatch.setattr(tracker, "now", found.wall)
    monkeypatch.setattr(tracker, "monotonic", found.monotonic)
    return found


def state(hass: HomeAssistant, entity_id: str) -> str:
    found = hass.states.get(entity_id)
    assert found is not None
    return found.state


def attribute(hass: HomeAssistant, entity_id: str, name: str) -> object:
    found = hass.states.get(entity_id)
    assert found is not None
    return found.attributes[name]


async def _steps(
    hass: HomeAssistant, entry, jbd: JbdSimulator, clock: Clock, n: int
) -> None:
    """Readings 10 s apart, the load jumping between 5 and 45 A."""
    for i in range(n):
        current = -45.0 if i % 2 else -5.0
        jbd.pack.current = current
        jbd.pack.cell_voltages = [round(3.30 + r * current, 3) for r in RESISTANCE]
        await _tick(hass, entry, clock, 10)


async def test_weak_cell_from_current_steps_survives_a_restart(
    hass: HomeAssistant, jbd: JbdSimulator, clock: Clock
) -> None:
    weak = f"binary_sensor.{JBD}_weak_cell"
    entry = await setup_entry(hass, jbd, "jbd")
    assert state(hass, weak) == "unknown"
    await _steps(hass, entry, jbd, clock, 6)
    assert state(hass, weak) == "unknown"  # too few steps to say
    await _steps(hass, entry, jbd, clock, 8)
    assert state(hass, weak) == "on"
    assert attribute(hass, weak, "cell") == 2
    estimates = entry.runtime_data.coordinator.tracker.health.resistance.resistances
    assert estimates == pytest.approx(RESISTANCE, rel=0.05)
    # The estimates are diagnostic sensors, disabled until the user enables one.
    resistance = f"sensor.{JBD}_cell_2_estimated_resistance"
    registry = er.async_get(hass)
    registered = registry.async_get(resistance)
    assert registered is not None
    assert registered.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    registry.async_update_entity(resistance, disabled_by=None)

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, weak) == "on"
    assert attribute(hass, weak, "cell") == 2
    assert float(state(hass, resistance)) == pytest.approx(1.0, rel=0.05)  # mΩ


async def test_the_cell_first_at_the_knee(
    hass: HomeAssistant, jbd: JbdSimulator, clock: Clock
) -> None:
    knee = f"sensor.{JBD}_first_cell_at_the_knee"
    entry = await setup_entry(hass, jbd, "jbd")
    assert state(hass, knee) == "unknown"
    for _ in range(2):
        jbd.pack.current = -20.0
        jbd.pack.cell_voltages = [3.30, 3.30, 3.29, 3.30]
        await _tick(hass, entry, clock, 10)
        jbd.pack.cell_voltages = [3.14, 3.13, 3.08, 3.14]  # cell 3 leads down
        await _tick(hass, entry, clock, 10)
        jbd.pack.current = 20.0
        jbd.pack.cell_voltages = [3.30, 3.30, 3.31, 3.30]
        await _tick(hass, entry, clock, 10)
        jbd.pack.cell_voltages = [3.40, 3.41, 3.46, 3.40]  # and up
        await _tick(hass, entry, clock, 10)
    assert state(hass, knee) == "3"
    assert attribute(hass, knee, "times_first") == 4
    assert attribute(hass, knee, "knees_seen") == 4


async def test_standby_drain_raises_the_storage_repair(
    hass: HomeAssistant, jbd: JbdSimulator, clock: Clock
) -> None:
    days = f"sensor.{JBD}_standby_days_until_empty"
    jbd.pack.current = 0.0
    jbd.pack.soc = 50.0
    entry = await setup_entry(hass, jbd, "jbd")
    issue_id = f"standby_drain_{entry.entry_id}"
    issues = ir.async_get(hass)
    for _ in range(6 * 24):  # a day at rest, losing 2.4 % (a 100 mA drain)
        jbd.pack.soc -= 2.4 / (6 * 24)
        await _tick(hass, entry, clock, 600)
    assert float(state(hass, days)) == pytest.approx(47.6 / 2.4, rel=0.05)
    assert attribute(hass, days, "drain_per_day") == pytest.approx(2.4, rel=0.05)
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "standby_drain"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "name": entry.title,
        "days": "20",
        "limit": "60",
    }

    # Below a lower threshold of the user's, the repair clears after a reload.
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_STORAGE_WARNING_DAYS: 10}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert float(state(hass, days)) == pytest.approx(19.8, rel=0.05)
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_STORAGE_WARNING_DAYS: 30}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert (issue.translation_placeholders or {})["limit"] == "30"
    # Removing the pack removes its repair.
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_without_the_inputs_there_is_no_entity(
    hass: HomeAssistant, jbd: JbdSimulator, clock: Clock
) -> None:
    await setup_entry(hass, jbd, "jbd")
    # The JBD reports no MOSFET temperature.
    assert hass.states.get(f"binary_sensor.{JBD}_mosfet_overheating_risk") is None


async def _daly(hass: HomeAssistant, add_device) -> DalySimulator:
    device = DalySimulator("B4:E8:42:6A:00:01")
    device.pack.temperatures = [25.0, 25.0]
    device.pack.mosfet_temperature = 25.0
    device.pack.current = 0.0
    await add_device(device)
    return device


async def test_mosfet_overheating_risk_from_learnt_heating(
    hass: HomeAssistant, add_device, clock: Clock
) -> None:
    risk = f"binary_sensor.{DALY}_mosfet_overheating_risk"
    daly: SimulatedBms = await _daly(hass, add_device)
    entry = await setup_entry(hass, daly, "daly")
    assert state(hass, risk) == "unknown"
    pack = daly.pack

    async def hold(current: float, hours: float) -> None:
        # 2 mΩ on 2.5 K/W: 0.005 K/A²; the heat sink lags by ten minutes.
        for _ in range(round(hours * 12)):
            pack.current = current
            settle = 25.0 + 0.005 * current**2
            pack.mosfet_temperature += (settle - pack.mosfet_temperature) * (
                1 - math.exp(-300 / 600)
            )
            await _tick(hass, entry, clock, 300)

    await hold(0.0, 1)
    await hold(-60.0, 1.5)
    await hold(0.0, 1)
    await hold(-60.0, 1)
    assert state(hass, risk) == "off"  # 60 A settles near 43 °C
    projected = attribute(hass, risk, "projected_temperature")
    assert projected == pytest.approx(43.0, abs=3)
    await hold(-100.0, 1 / 12)  # 100 A would settle near 75 °C
    assert state(hass, risk) == "on"
    assert attribute(hass, risk, "projected_temperature") == pytest.approx(75, abs=5)


async def test_a_corrupt_health_section_is_reported_and_the_rest_kept(
    hass: HomeAssistant, jbd: JbdSimulator, hass_storage: dict[str, Any]
) -> None:
    entry = make_entry(jbd, "jbd")
    energy = {
        "charge_energy": 1.5,
        "discharge_energy": 2.25,
        "last_time": None,
        "last_power": None,
    }
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "data": {"energy": energy, "health": {"knee": "corrupt"}},
    }
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"storage_reset_{entry.entry_id}"
    )
    assert issue is not None
    placeholders = issue.translation_placeholders or {}
    assert placeholders["lost"] == (
        "Estimated state of charge, Standby days until empty, First cell at the knee"
    )
    assert float(state(hass, f"sensor.{JBD}_charge_energy")) == 1.5
