import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.analytics.energy import EnergyCounter
from custom_components.lithium_bms.analytics.integrator import InvalidStateError

T0 = 1_700_000_000.0


def test_steady_charge_for_one_hour() -> None:
    counter = EnergyCounter(update_interval=30)
    for second in range(0, 3601, 30):
        counter.update(T0 + second, 52.0, 10.0)
    assert counter.charge_energy == pytest.approx(0.52)
    assert counter.discharge_energy == 0


def test_steady_discharge_for_half_an_hour() -> None:
    counter = EnergyCounter(update_interval=60)
    for second in range(0, 1801, 60):
        counter.update(T0 + second, 48.0, -25.0)
    assert counter.discharge_energy == pytest.approx(0.6)
    assert counter.charge_energy == 0


def test_varying_power_uses_trapezoids() -> None:
    counter = EnergyCounter(update_interval=60)
    counter.update(T0, 50.0, 0.0)  # 0 W
    counter.update(T0 + 60, 50.0, 12.0)  # 600 W: 18 000 Ws
    counter.update(T0 + 120, 50.0, 24.0)  # 1200 W: 54 000 Ws
    assert counter.charge_energy == pytest.approx(72_000 / 3_600_000)


def test_sign_change_is_split_at_the_zero_crossing() -> None:
    counter = EnergyCounter(update_interval=30)
    counter.update(T0, 50.0, 20.0)  # +1000 W
    counter.update(T0 + 40, 50.0, -60.0)  # -3000 W, zero at 10 s
    assert counter.charge_energy == pytest.approx(5_000 / 3_600_000)
    assert counter.discharge_energy == pytest.approx(45_000 / 3_600_000)


def test_gap_longer_than_the_limit_is_not_bridged() -> None:
    counter = EnergyCounter(update_interval=30)
    counter.update(T0, 50.0, 72.0)  # 3600 W
    counter.update(T0 + 600, 50.0, 72.0)  # bridged: 600 s = limit
    assert counter.charge_energy == pytest.approx(0.6)
    counter.update(T0 + 1201, 50.0, 72.0)  # 601 s: skipped
    assert counter.charge_energy == pytest.approx(0.6)
    counter.update(T0 + 1231, 50.0, 72.0)  # new segment continues
    assert counter.charge_energy == pytest.approx(0.63)


def test_gap_limit_follows_a_long_update_interval() -> None:
    counter = EnergyCounter(update_interval=400)
    counter.update(T0, 50.0, 72.0)
    counter.update(T0 + 800, 50.0, 72.0)
    assert counter.charge_energy == pytest.approx(0.8)
    counter.update(T0 + 1601, 50.0, 72.0)
    assert counter.charge_energy == pytest.approx(0.8)


def test_time_going_backwards_starts_a_new_segment() -> None:
    counter = EnergyCounter(update_interval=30)
    counter.update(T0, 50.0, 72.0)
    counter.update(T0 + 100, 50.0, 72.0)
    before = counter.charge_energy
    counter.update(T0 + 50, 50.0, -500.0)  # backwards: no area
    assert counter.charge_energy == before
    assert counter.discharge_energy == 0
    counter.update(T0 + 150, 50.0, -500.0)  # bridged from T0 + 50
    assert counter.charge_energy == before
    assert counter.discharge_energy == pytest.approx(25_000 * 100 / 3_600_000)


def test_a_clock_that_ran_ahead_and_was_corrected_keeps_counting() -> None:
    counter = EnergyCounter(update_interval=30)
    counter.update(T0, 50.0, 72.0)
    counter.update(T0 + 86_400 * 365, 50.0, 72.0)  # a year ahead: a gap
    counter.update(T0 + 30, 50.0, 72.0)  # corrected: a new segment
    counter.update(T0 + 330, 50.0, 72.0)
    assert counter.charge_energy == pytest.approx(0.3)


def test_a_wall_clock_jump_within_the_gap_counts_only_the_monotonic_time() -> None:
    counter = EnergyCounter(update_interval=30)
    counter.update(T0, 50.0, 72.0, monotonic=10.0)
    counter.update(T0 + 580, 50.0, 72.0, monotonic=40.0)  # the wall jumped 550 s
    assert counter.charge_energy == pytest.approx(3600 * 30 / 3_600_000)


def test_a_restored_future_sample_does_not_freeze_the_totals() -> None:
    saved = {
        "charge_energy": 1.0,
        "discharge_energy": 2.0,
        "last_time": T0 + 86_400 * 365,
        "last_power": 3600.0,
    }
    counter = EnergyCounter.from_dict(saved, update_interval=30)
    counter.update(T0, 50.0, 72.0)
    counter.update(T0 + 300, 50.0, 72.0)
    assert counter.charge_energy == pytest.approx(1.3)
    assert counter.discharge_energy == 2.0


@pytest.mark.parametrize(
    ("voltage", "current", "capacity"),
    [
        (52.0, 1_500.0, 100.0),  # 15 C
        (52.0, -1_500.0, 100.0),
        (52.0, 60.0, 2.0),  # above the 50 A floor of a small pack
        (52.0, 2_500.0, None),  # above the absolute limit
        (52.0, 2_500.0, 1_000.0),
        (838_860.0, 100.0, 100.0),  # the spliced JK frame of issue 10
        (-52.0, 10.0, 100.0),
        (1_200.0, 10.0, None),
        (math.nan, 10.0, 100.0),
        (52.0, math.inf, 100.0),
    ],
)
def test_an_impossible_sample_is_skipped_and_breaks_the_segment(
    voltage: float, current: float, capacity: float | None
) -> None:
    counter = EnergyCounter(update_interval=30)
    counter.update(T0, 52.0, 10.0, capacity)
    counter.update(T0 + 30, voltage, current, capacity)
    assert counter.charge_energy == 0
    assert counter.discharge_energy == 0
    counter.update(T0 + 60, 52.0, 10.0, capacity)  # a new segment: no area
    assert counter.charge_energy == 0
    counter.update(T0 + 90, 52.0, 10.0, capacity)
    assert counter.charge_energy == pytest.approx(52 * 10 * 30 / 3_600_000)


def test_a_high_but_possible_current_is_counted() -> None:
    counter = EnergyCounter(update_interval=30)
    counter.update(T0, 52.0, 900.0, 100.0)  # 9 C: a burst, but possible
    counter.update(T0 + 1, 52.0, 900.0, 100.0)
    assert counter.charge_energy == pytest.approx(52 * 900 / 3_600_000)


def test_a_step_larger_than_the_pack_is_skipped() -> None:
    counter = EnergyCounter(update_interval=30)
    # 90 A is within 10 C of 10 Ah, but 500 s of it is 12.5 Ah: more than the
    # pack holds.
    counter.update(T0, 50.0, 90.0, 10.0)
    counter.update(T0 + 500, 50.0, 90.0, 10.0)
    assert counter.charge_energy == 0
    counter.update(T0 + 530, 50.0, 90.0, 10.0)
    assert counter.charge_energy == 0
    counter.update(T0 + 560, 50.0, 90.0, 10.0)
    assert counter.charge_energy == pytest.approx(50 * 90 * 30 / 3_600_000)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-100, 900),
            st.floats(0, 60),
            st.floats(-200, 200),
        ),
        max_size=40,
    )
)
def test_totals_never_go_down(samples: list[tuple[float, float, float]]) -> None:
    counter = EnergyCounter(update_interval=30)
    now = T0
    charge = discharge = 0.0
    for step, voltage, current in samples:
        now += step
        counter.update(now, voltage, current)
        assert counter.charge_energy >= charge
        assert counter.discharge_energy >= discharge
        charge, discharge = counter.charge_energy, counter.discharge_energy


def test_restore_within_the_gap_limit_bridges_the_downtime() -> None:
    counter = EnergyCounter(update_interval=30)
    counter.update(T0, 50.0, 72.0)
    counter.update(T0 + 3600, 50.0, 72.0)  # gap: not counted
    counter.update(T0 + 3900, 50.0, 72.0)  # 0.3 kWh
    saved = json.loads(json.dumps(counter.to_dict()))
    assert saved == {
        "charge_energy": pytest.approx(0.3),
        "discharge_energy": 0.0,
        "last_time": T0 + 3900,
        "last_power": 3600.0,
    }

    restored = EnergyCounter.from_dict(saved, update_interval=30)
    assert restored.charge_energy == pytest.approx(0.3)
    restored.update(T0 + 4200, 50.0, 72.0)  # 300 s after: bridged
    assert restored.charge_energy == pytest.approx(0.6)


def test_restore_after_a_long_downtime_does_not_bridge() -> None:
    counter = EnergyCounter(update_interval=30)
    counter.update(T0, 48.0, -50.0)
    counter.update(T0 + 300, 48.0, -50.0)  # 0.2 kWh out
    restored = EnergyCounter.from_dict(counter.to_dict(), update_interval=30)
    restored.update(T0 + 300 + 3600, 48.0, -50.0)
    assert restored.discharge_energy == pytest.approx(0.2)
    restored.update(T0 + 300 + 3900, 48.0, -50.0)
    assert restored.discharge_energy == pytest.approx(0.4)
    # Restoring the same state twice does not count anything twice.
    again = EnergyCounter.from_dict(counter.to_dict(), update_interval=30)
    assert again.discharge_energy == pytest.approx(0.2)


@pytest.mark.parametrize(
    "data",
    [
        {
            "charge_energy": "1.5",
            "discharge_energy": 0.0,
            "last_time": None,
            "last_power": None,
        },
        {
            "charge_energy": 1.5,
            "discharge_energy": -3,
            "last_time": None,
            "last_power": None,
        },
        {
            "charge_energy": math.nan,
            "discharge_energy": 0.0,
            "last_time": None,
            "last_power": None,
        },
        {
            "charge_energy": True,
            "discharge_energy": 0.0,
            "last_time": None,
            "last_power": None,
        },
        {
            "charge_energy": 1.5,
            "discharge_energy": 0.0,
            "last_time": T0,
            "last_power": "3600",
        },
        {"charge_energy": 1.5, "discharge_energy": 0.0, "last_time": None},
        {"charge_energy": 1.5, "discharge_energy": 0.0, "last_power": None},
        {"charge_energy": 1.5, "last_time": None, "last_power": None},
        {},
    ],
)
def test_restore_refuses_a_damaged_state(data: dict[str, object]) -> None:
    with pytest.raises(InvalidStateError):
        EnergyCounter.from_dict(data, update_interval=30)


def test_restore_takes_a_state_without_a_last_sample() -> None:
    restored = EnergyCounter.from_dict(
        {
            "charge_energy": 1,
            "discharge_energy": 0,
            "last_time": None,
            "last_power": None,
        },
        update_interval=30,
    )
    assert restored.charge_energy == 1.0
    restored.update(T0, 50.0, 10.0)
    assert restored.charge_energy == 1.0
