"""Energy counters, SOC estimate, drift repair and imbalance, through HA."""

from __future__ import annotations

from datetime import timedelta

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from bms_simulator.families.jbd import JbdSimulator
from custom_components.lithium_bms import tracker
from custom_components.lithium_bms.analytics.chemistry import Chemistry
from custom_components.lithium_bms.const import DOMAIN
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot

from .conftest import setup_entry

PREFIX = "sensor.jbd_sp04s034"
LIFEPO4_THRESHOLDS = Chemistry.LIFEPO4.thresholds


KWH = 1e-6  # the energy sensors' resolution (1 mWh)


def value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state)


class Clock:
    """The tracker's clocks, advanced by hand; the wall clock can be set off."""

    def __init__(self) -> None:
        self.time = 1_800_000_000.0
        self.wall_offset = 0.0

    def tick(self, delta: timedelta) -> None:
        self.time += delta.total_seconds()

    def wall(self) -> float:
        return self.time + self.wall_offset

    def monotonic(self) -> float:
        return self.time


@pytest.fixture
def freezer(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(tracker, "now", clock.wall)
    monkeypatch.setattr(tracker, "monotonic", clock.monotonic)
    return clock


async def _tick(hass: HomeAssistant, entry, freezer: Clock, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def test_energy_counts_charge_and_discharge(
    hass: HomeAssistant, jbd: JbdSimulator, freezer: Clock
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    voltage = 13.21  # 3.301 + 3.302 + 3.299 + 3.305, at the BMS's 10 mV
    for _ in range(6):
        await _tick(hass, entry, freezer, 10)
    discharged = voltage * 2.5 * 60 / 3_600_000
    assert value(hass, f"{PREFIX}_discharge_energy") == pytest.approx(
        discharged, abs=KWH
    )
    assert value(hass, f"{PREFIX}_charge_energy") == 0

    jbd.pack.current = 5.0  # the sign flips inside the next interval
    await _tick(hass, entry, freezer, 10)
    # Trapezoid from -33.025 W to +66.05 W, split at the zero crossing.
    p1, p2 = voltage * -2.5, voltage * 5.0
    crossing = 10 * -p1 / (p2 - p1)
    charge = p2 * (10 - crossing) / 2 / 3_600_000
    discharge = discharged + -p1 * crossing / 2 / 3_600_000
    assert value(hass, f"{PREFIX}_charge_energy") == pytest.approx(charge, abs=KWH)
    assert value(hass, f"{PREFIX}_discharge_energy") == pytest.approx(
        discharge, abs=KWH
    )

    # A gap longer than 10 minutes is not bridged.
    await _tick(hass, entry, freezer, 900)
    assert value(hass, f"{PREFIX}_charge_energy") == pytest.approx(charge, abs=KWH)


async def test_energy_survives_restart_without_double_counting(
    hass: HomeAssistant, jbd: JbdSimulator, freezer: Clock
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    for _ in range(3):
        await _tick(hass, entry, freezer, 10)
    before = value(hass, f"{PREFIX}_discharge_energy")
    assert before > 0
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(seconds=5))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # The restart's first reading is bridged to the saved sample (15 s, within
    # the gap limit), and counted once.
    after = value(hass, f"{PREFIX}_discharge_energy")
    assert after == pytest.approx(before + 13.21 * 2.5 * 5 / 3_600_000, abs=KWH)
    await _tick(hass, entry, freezer, 10)
    assert value(hass, f"{PREFIX}_discharge_energy") == pytest.approx(
        after + 13.21 * 2.5 * 10 / 3_600_000, abs=KWH
    )


async def test_soc_estimate_drift_repair_and_full_charge(
    hass: HomeAssistant, jbd: JbdSimulator, freezer: Clock
) -> None:
    jbd.pack.soc = 80
    jbd.pack.current = -10.0  # the BMS keeps claiming 80 % while 10 A flow out
    entry = await setup_entry(hass, jbd, "jbd")
    assert value(hass, f"{PREFIX}_estimated_state_of_charge") == 80
    await _tick(hass, entry, freezer, 600)
    # 10 A for 10 minutes out of 100 Ah: 1.667 % less.
    assert value(hass, f"{PREFIX}_estimated_state_of_charge") == pytest.approx(
        80 - 10 / 6, abs=0.01
    )
    # The drift sensor is disabled by default: the tracker holds its value.
    assert entry.runtime_data.coordinator.tracker.soc.drift == pytest.approx(
        10 / 6, abs=0.01
    )
    issue_id = f"calibration_needed_{entry.entry_id}"
    issues = ir.async_get(hass)
    for _ in range(6 * 25):  # a day and an hour of readings every 10 minutes
        await _tick(hass, entry, freezer, 600)
    assert value(hass, f"{PREFIX}_estimated_state_of_charge") == 0
    assert issues.async_get_issue(DOMAIN, issue_id) is not None

    # A full charge: every cell above 3.45 V while the current tapers.
    jbd.pack.cell_voltages = [3.50, 3.51, 3.49, 3.50]
    jbd.pack.current = 1.0
    await _tick(hass, entry, freezer, 600)
    assert value(hass, f"{PREFIX}_estimated_state_of_charge") == 100
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_cell_imbalance(
    hass: HomeAssistant, jbd: JbdSimulator, freezer: Clock
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    entity_id = "binary_sensor.jbd_sp04s034_cell_imbalance"
    assert hass.states.get(entity_id).state == "off"
    jbd.pack.cell_voltages = [3.30, 3.36, 3.31, 3.30]
    await _tick(hass, entry, freezer, 10)
    assert hass.states.get(entity_id).state == "on"
    # Near full the spread is the balancer's business, not an imbalance.
    jbd.pack.cell_voltages = [3.44, 3.52, 3.45, 3.46]
    await _tick(hass, entry, freezer, 10)
    assert hass.states.get(entity_id).state == "off"


async def test_removing_entry_deletes_saved_state(
    hass: HomeAssistant, jbd: JbdSimulator, hass_storage: dict
) -> None:  # type: ignore[type-arg]
    entry = await setup_entry(hass, jbd, "jbd")
    await hass.config_entries.async_unload(entry.entry_id)
    key = f"{DOMAIN}.{entry.entry_id}"
    assert key in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


async def test_a_clock_that_ran_ahead_freezes_nothing_across_a_restart(
    hass: HomeAssistant, jbd: JbdSimulator, freezer: Clock
) -> None:
    jbd.pack.soc = 80
    jbd.pack.current = -10.0
    entry = await setup_entry(hass, jbd, "jbd")
    await _tick(hass, entry, freezer, 10)
    freezer.wall_offset = 365 * 86_400  # the wall clock runs a year ahead ...
    await _tick(hass, entry, freezer, 10)
    assert await hass.config_entries.async_unload(entry.entry_id)  # saved
    freezer.wall_offset = 0  # ... and is corrected
    jbd.pack.soc = 70
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # The saved sample lies in the future: a new segment, from the BMS.
    assert value(hass, f"{PREFIX}_estimated_state_of_charge") == 70
    before = value(hass, f"{PREFIX}_discharge_energy")
    for _ in range(6):
        await _tick(hass, entry, freezer, 60)
    assert value(hass, f"{PREFIX}_discharge_energy") == pytest.approx(
        before + 13.21 * 10 * 360 / 3_600_000, abs=KWH
    )
    # 10 A for 6 minutes out of 100 Ah: 1 % less.
    assert value(hass, f"{PREFIX}_estimated_state_of_charge") == pytest.approx(
        69, abs=0.01
    )


async def test_an_impossible_current_is_not_counted(
    hass: HomeAssistant, jbd: JbdSimulator, freezer: Clock
) -> None:
    jbd.pack.full_capacity = jbd.pack.design_capacity = 20.0
    entry = await setup_entry(hass, jbd, "jbd")
    await _tick(hass, entry, freezer, 10)
    before = value(hass, f"{PREFIX}_discharge_energy")
    assert value(hass, f"{PREFIX}_estimated_state_of_charge") < 64
    jbd.pack.current = -300.0  # 15 C of a 20 Ah pack
    await _tick(hass, entry, freezer, 10)
    jbd.pack.current = -2.5
    await _tick(hass, entry, freezer, 10)  # a new segment: nothing bridged
    assert value(hass, f"{PREFIX}_discharge_energy") == before
    # The SOC estimate restarts from the BMS (64 %), unharmed by the 300 A.
    assert value(hass, f"{PREFIX}_estimated_state_of_charge") == 64
    await _tick(hass, entry, freezer, 10)
    assert value(hass, f"{PREFIX}_discharge_energy") == pytest.approx(
        before + 13.21 * 2.5 * 10 / 3_600_000, abs=KWH
    )


async def test_a_wall_clock_jump_within_the_gap_limit_adds_nothing(
    hass: HomeAssistant, jbd: JbdSimulator, freezer: Clock
) -> None:
    entry = await setup_entry(hass, jbd, "jbd")
    await _tick(hass, entry, freezer, 10)
    before = value(hass, f"{PREFIX}_discharge_energy")
    freezer.wall_offset = 550  # ahead, but within the 600 s gap limit
    await _tick(hass, entry, freezer, 10)
    # Only the 10 s that really passed count, not 560 s.
    assert value(hass, f"{PREFIX}_discharge_energy") == pytest.approx(
        before + 13.21 * 2.5 * 10 / 3_600_000, abs=KWH
    )


@pytest.mark.parametrize(
    ("reported", "expected"),
    [(None, 50.0), (100.0, 100.0)],
    ids=["bms_reports_none", "bms_reports_one"],
)
async def test_the_users_capacity_stands_in_only_for_a_missing_one(
    hass: HomeAssistant, freezer: Clock, reported: float | None, expected: float
) -> None:
    """The option is the SOC estimate's capacity only when the BMS has none."""
    pack = tracker.PackTracker(
        hass, "capacity_test", LIFEPO4_THRESHOLDS, 10, pack_capacity=50.0
    )
    snapshot = BatterySnapshot(
        voltage=52.0, current=-5.0, state_of_charge=80, design_capacity=reported
    )
    for _ in range(2):
        pack.update(snapshot)
        freezer.tick(timedelta(seconds=10))
    assert pack.soc.capacity == expected
    # Seeded at 80 %, then 5 A for 10 s counted out of the capacity in use.
    assert pack.soc.state_of_charge == pytest.approx(
        80 - 5 * 10 / 3600 / expected * 100
    )
    await pack.async_save()


def test_no_capacity_option_is_none() -> None:
    assert tracker.pack_capacity_from_options({}) is None
    assert tracker.pack_capacity_from_options({"pack_capacity": 0}) is None
    assert tracker.pack_capacity_from_options({"pack_capacity": 280}) == 280.0
