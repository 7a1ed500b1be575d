import json
from typing import Any

import pytest

from custom_components.lithium_bms.analytics.chemistry import Chemistry
from custom_components.lithium_bms.analytics.integrator import InvalidStateError
from custom_components.lithium_bms.analytics.soc import Anchor, SocEstimator
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot

T0 = 1_700_000_000.0
HOUR = 3600.0
LFP = Chemistry.LIFEPO4.thresholds
MID = (3.30, 3.31, 3.30, 3.32)
FULL = (3.50, 3.48, 3.52, 3.47)
EMPTY = (3.00, 2.85, 3.01, 3.02)


def snap(
    current: float,
    cells: tuple[float, ...] = MID,
    soc: float | None = 50.0,
    full: float | None = 100.0,
) -> BatterySnapshot:
    return BatterySnapshot(
        voltage=sum(cells),
        current=current,
        cell_voltages=cells,
        state_of_charge=soc,
        full_capacity=full,
    )


def run(
    estimator: SocEstimator,
    start: float,
    hours: float,
    current: float,
    *,
    soc: float | None = 50.0,
    step: float = 30.0,
) -> float:
    """Feed constant-current mid-window samples after ``start``; return end time."""
    now = start
    for _ in range(round(hours * HOUR / step)):
        now += step
        estimator.update(now, snap(current, soc=soc))
    return now


def test_starts_from_the_bms_soc_and_counts() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-10.0, soc=50.0))
    assert estimator.state_of_charge == 50.0
    assert estimator.anchor is None
    assert estimator.capacity == 100.0
    run(estimator, T0, 1, -10.0)  # 10 Ah out of 100 Ah
    assert estimator.state_of_charge == pytest.approx(40.0)
    assert estimator.drift == pytest.approx(10.0)


def test_nothing_is_estimated_without_soc_or_capacity() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-10.0, soc=60.0, full=None))
    assert estimator.state_of_charge is None
    assert estimator.capacity is None
    estimator.update(T0 + 30, snap(-10.0, soc=60.0))
    assert estimator.state_of_charge == 60.0

    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-10.0, soc=None))
    assert estimator.state_of_charge is None
    assert estimator.drift is None
    estimator.update(T0 + 30, snap(-10.0, soc=40.0))
    assert estimator.state_of_charge == 40.0


def test_full_anchor_needs_every_cell_high_and_a_tapering_charge() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(2.0, soc=80.0))
    estimator.update(T0 + 30, snap(10.0, FULL, soc=80.0))  # not tapering (> 5 A)
    assert estimator.anchor is None
    low_cell = (3.50, 3.44, 3.50, 3.50)
    estimator.update(T0 + 60, snap(2.0, low_cell, soc=80.0))
    assert estimator.anchor is None
    estimator.update(T0 + 90, snap(0.0, FULL, soc=80.0))  # no charge current
    assert estimator.anchor is None
    assert estimator.state_of_charge == pytest.approx(80.0, abs=0.5)
    estimator.update(T0 + 120, snap(2.0, FULL, soc=80.0))
    assert estimator.anchor is Anchor.FULL
    assert estimator.state_of_charge == 100.0
    assert estimator.drift == -20.0


def test_empty_anchor_needs_a_low_cell_while_discharging() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(0.0, EMPTY, soc=15.0))
    assert estimator.anchor is None
    assert estimator.state_of_charge == 15.0
    estimator.update(T0 + 30, snap(-20.0, EMPTY, soc=15.0))
    assert estimator.anchor is Anchor.EMPTY
    assert estimator.state_of_charge == 0.0
    assert estimator.drift == 15.0


def test_overridden_thresholds_move_the_anchor() -> None:
    estimator = SocEstimator(LFP.override(full_cell_voltage=3.55), update_interval=30)
    estimator.update(T0, snap(2.0, FULL, soc=90.0))
    assert estimator.anchor is None
    estimator.update(T0 + 30, snap(2.0, (3.56,) * 4, soc=90.0))
    assert estimator.anchor is Anchor.FULL


def discharge_traverse(estimator: SocEstimator, hours: float) -> float:
    """Anchor full at T0, discharge at 10 A for ``hours``, end on an empty cell."""
    estimator.update(T0, snap(2.0, FULL, soc=97.0))
    assert estimator.anchor is Anchor.FULL
    now = run(estimator, T0, hours - 30 / HOUR, -10.0)
    now += 30
    estimator.update(now, snap(-10.0, EMPTY, soc=10.0))
    return now


def test_full_to_empty_traverse_learns_the_capacity() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    now = discharge_traverse(estimator, 9)
    # First interval +2 A -> -10 A over 30 s, then 1079 intervals at -10 A.
    counted = (-(2 - 10) / 2 * 30 + 10 * 30 * 1079) / 3600
    assert estimator.anchor is Anchor.EMPTY
    assert estimator.learned_capacity == pytest.approx(counted)
    assert estimator.capacity == pytest.approx(89.95)
    assert estimator.state_of_charge == 0.0

    # -10 A -> +10 A nets zero, then 45 Ah in: half of the learned capacity.
    estimator.update(now + 30, snap(10.0, soc=10.0))
    run(estimator, now + 30, 4.5, 10.0)
    assert estimator.state_of_charge == pytest.approx(45 / 89.95 * 100)


def test_empty_to_full_traverse_learns_the_capacity() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-10.0, EMPTY, soc=5.0))
    assert estimator.anchor is Anchor.EMPTY
    now = run(estimator, T0, 1, 0.0)  # rest: the transition adds -10/2*30 As
    now = run(estimator, now, 11, 10.0)  # 110 Ah in (after a 0 -> 10 ramp)
    estimator.update(now + 30, snap(4.0, FULL, soc=100.0))
    counted = (-5 * 30 + 5 * 30 + 10 * 30 * 1319 + 7 * 30) / 3600
    assert estimator.anchor is Anchor.FULL
    assert estimator.learned_capacity == pytest.approx(counted)
    assert estimator.state_of_charge == 100.0


def test_implausible_traverse_is_discarded() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    discharge_traverse(estimator, 4)  # 40 Ah < 0.5 * 100 Ah
    assert estimator.anchor is Anchor.EMPTY
    assert estimator.learned_capacity is None
    assert estimator.capacity == 100.0

    estimator = SocEstimator(LFP, update_interval=30)
    discharge_traverse(estimator, 16)  # 160 Ah > 1.5 * 100 Ah
    assert estimator.learned_capacity is None


def test_a_gap_during_the_traverse_prevents_learning() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(2.0, FULL, soc=97.0))
    now = run(estimator, T0, 4, -10.0)
    now += 2 * HOUR  # downtime: not bridged
    estimator.update(now, snap(-10.0, soc=45.0))
    assert estimator.anchor is None
    assert estimator.state_of_charge == 45.0  # restarted from the BMS
    now = run(estimator, now, 4, -10.0, soc=45.0)
    estimator.update(now + 30, snap(-10.0, EMPTY, soc=5.0))
    assert estimator.anchor is Anchor.EMPTY
    assert estimator.learned_capacity is None


def test_staying_full_does_not_learn() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    now = T0
    for _ in range(100):
        estimator.update(now, snap(2.0, FULL, soc=100.0))
        now += 30
    assert estimator.anchor is Anchor.FULL
    assert estimator.learned_capacity is None
    assert estimator.state_of_charge == 100.0


def test_estimate_is_clamped() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(50.0, soc=95.0))
    run(estimator, T0, 1, 50.0, soc=95.0)  # 50 Ah into a 95 % pack
    assert estimator.state_of_charge == 100.0
    # The surplus was not banked: 5 Ah out brings it to 95 %.
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-50.0, soc=5.0))
    run(estimator, T0, 1, -50.0, soc=5.0)
    assert estimator.state_of_charge == 0.0


def test_time_going_backwards_restarts_the_count() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(2.0, FULL, soc=97.0))
    assert estimator.anchor is Anchor.FULL
    estimator.update(T0 + 360, snap(-10.0, soc=50.0))
    assert estimator.state_of_charge == pytest.approx(100 - 4 * 360 / 3600)
    # Backwards: how much time really passed is unknown, so the count restarts
    # from the BMS and the anchor (and the traverse to the next) is forgotten.
    estimator.update(T0 + 100, snap(-10.0, soc=48.0))
    assert estimator.anchor is None
    assert estimator.state_of_charge == 48.0
    estimator.update(T0 + 460, snap(-10.0, soc=48.0))
    assert estimator.state_of_charge == pytest.approx(47.0)


def test_a_clock_that_ran_ahead_and_was_corrected_keeps_counting() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-10.0, soc=50.0))
    estimator.update(T0 + 365 * 86_400, snap(-10.0, soc=50.0))  # a gap
    estimator.update(T0 + 30, snap(-10.0, soc=49.0))  # corrected
    estimator.update(T0 + 390, snap(-10.0, soc=49.0))
    assert estimator.state_of_charge == pytest.approx(48.0)


def test_a_wall_clock_jump_within_the_gap_counts_only_the_monotonic_time() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-10.0, soc=50.0), monotonic=0.0)
    estimator.update(T0 + 200 + 360, snap(-10.0, soc=50.0), monotonic=360.0)
    assert estimator.state_of_charge == pytest.approx(49.0)


def test_a_restored_future_sample_does_not_freeze_the_estimate() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-10.0, soc=50.0))
    saved = estimator.to_dict()
    saved["last_time"] = T0 + 365 * 86_400
    restored = SocEstimator.from_dict(saved, LFP, update_interval=30)
    restored.update(T0 + 30, snap(-10.0, soc=49.0))
    assert restored.state_of_charge == 49.0
    restored.update(T0 + 390, snap(-10.0, soc=49.0))
    assert restored.state_of_charge == pytest.approx(48.0)


@pytest.mark.parametrize(
    ("current", "full"),
    [
        (-1_500.0, 100.0),  # 15 C
        (1_500.0, 100.0),
        (-2_500.0, 1_000.0),  # above the absolute limit
        (-2_500.0, None),
        (float("nan"), 100.0),
    ],
)
def test_an_impossible_current_is_skipped(current: float, full: float | None) -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-10.0, soc=50.0))
    estimator.update(T0 + 360, snap(-10.0, soc=50.0))
    assert estimator.state_of_charge == pytest.approx(49.0)
    # The whole snapshot is refused: neither its current nor its SOC is used.
    estimator.update(T0 + 390, snap(current, soc=3.0, full=full))
    assert estimator.state_of_charge == pytest.approx(49.0)
    assert estimator.drift == pytest.approx(1.0)
    # What follows starts a new segment, from the BMS.
    estimator.update(T0 + 420, snap(-10.0, soc=48.5))
    assert estimator.state_of_charge == 48.5
    assert estimator.anchor is None


def test_a_step_larger_than_the_pack_is_skipped() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    estimator.update(T0, snap(-90.0, soc=50.0, full=10.0))
    # 90 A is within 10 C of 10 Ah, but 500 s of it (12.5 Ah) is more than the
    # pack holds.
    estimator.update(T0 + 500, snap(-90.0, soc=50.0, full=10.0))
    assert estimator.state_of_charge == 50.0
    estimator.update(T0 + 530, snap(-90.0, soc=49.0, full=10.0))
    assert estimator.state_of_charge == pytest.approx(49.0)


def test_calibration_needed_after_a_day_of_drift_until_full() -> None:
    estimator = SocEstimator(LFP, update_interval=60)
    estimator.update(T0, snap(2.0, FULL, soc=100.0))
    # Resting full, but the BMS reports 85 %: drift -15 points.
    now = run(estimator, T0, 23.9, 0.0, soc=85.0, step=60)
    assert estimator.drift == -15.0
    assert not estimator.calibration_needed
    now = run(estimator, now, 0.2, 0.0, soc=85.0, step=60)
    assert estimator.calibration_needed

    # The flag stays even when the BMS agrees again ...
    now = run(estimator, now, 2, 0.0, soc=100.0, step=60)
    assert estimator.calibration_needed
    # ... until the next full-charge anchor.
    now += 60
    estimator.update(now, snap(2.0, FULL, soc=100.0))
    assert not estimator.calibration_needed


def test_drift_below_the_limit_restarts_the_wait() -> None:
    estimator = SocEstimator(LFP, update_interval=60)
    estimator.update(T0, snap(2.0, FULL, soc=100.0))
    now = run(estimator, T0, 20, 0.0, soc=85.0, step=60)
    now = run(estimator, now, 0.1, 0.0, soc=95.0, step=60)  # drift -5
    now = run(estimator, now, 20, 0.0, soc=85.0, step=60)
    assert not estimator.calibration_needed
    run(estimator, now, 4.1, 0.0, soc=85.0, step=60)
    assert estimator.calibration_needed


def test_restore_continues_counting_within_the_gap_limit() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    discharge_traverse(estimator, 9)
    now = T0 + 9 * HOUR
    estimator.update(now + 30, snap(10.0, soc=10.0))
    now = run(estimator, now + 30, 2, 10.0, soc=10.0)

    saved = json.loads(json.dumps(estimator.to_dict()))
    restored = SocEstimator.from_dict(saved, LFP, update_interval=30)
    assert restored.state_of_charge == estimator.state_of_charge
    assert restored.learned_capacity == estimator.learned_capacity
    assert restored.anchor is Anchor.EMPTY

    # Five minutes of downtime are bridged exactly like a running estimator.
    estimator.update(now + 300, snap(10.0, soc=10.0))
    restored.update(now + 300, snap(10.0, soc=10.0))
    assert restored.state_of_charge == pytest.approx(estimator.state_of_charge)
    assert restored.anchor is Anchor.EMPTY


def test_restore_after_a_long_downtime_restarts_from_the_bms() -> None:
    estimator = SocEstimator(LFP, update_interval=30)
    discharge_traverse(estimator, 9)
    learned = estimator.learned_capacity
    restored = SocEstimator.from_dict(estimator.to_dict(), LFP, update_interval=30)
    restored.update(T0 + 20 * HOUR, snap(-5.0, soc=30.0))
    assert restored.anchor is None
    assert restored.state_of_charge == 30.0
    assert restored.learned_capacity == learned


def test_restore_keeps_the_calibration_flag() -> None:
    estimator = SocEstimator(LFP, update_interval=60)
    estimator.update(T0, snap(2.0, FULL, soc=100.0))
    run(estimator, T0, 25, 0.0, soc=85.0, step=60)
    assert estimator.calibration_needed
    restored = SocEstimator.from_dict(
        json.loads(json.dumps(estimator.to_dict())), LFP, update_interval=60
    )
    assert restored.calibration_needed


def valid_state() -> dict[str, Any]:
    estimator = SocEstimator(LFP, update_interval=30)
    discharge_traverse(estimator, 9)
    return json.loads(json.dumps(estimator.to_dict()))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("charge", -4),
        ("charge", "40"),
        ("charge", float("nan")),
        ("anchor", "half"),
        ("anchor", []),
        ("anchor", {}),
        ("anchor", ["full"]),
        ("since_anchor", None),
        ("since_anchor", float("inf")),
        ("traverse_valid", 1),
        ("learned_capacity", "big"),
        ("learned_capacity", 0),
        ("bms_capacity", -100),
        ("bms_soc", "50"),
        ("last_time", "yesterday"),
        ("last_current", None),
        ("drift_monitor", 3),
        ("drift_monitor", {"calibration_needed": "yes", "above_since": None}),
        ("drift_monitor", {"calibration_needed": False, "above_since": "now"}),
        ("drift_monitor", {"calibration_needed": False}),
    ],
)
def test_restore_refuses_a_damaged_state(key: str, value: object) -> None:
    data = valid_state()
    data[key] = value
    with pytest.raises(InvalidStateError):
        SocEstimator.from_dict(data, LFP, update_interval=30)


@pytest.mark.parametrize("key", list(valid_state()))
def test_restore_refuses_a_state_with_a_missing_key(key: str) -> None:
    data = valid_state()
    del data[key]
    with pytest.raises(InvalidStateError):
        SocEstimator.from_dict(data, LFP, update_interval=30)


def test_restore_takes_a_fresh_state() -> None:
    fresh = SocEstimator(LFP, update_interval=30).to_dict()
    restored = SocEstimator.from_dict(fresh, LFP, update_interval=30)
    assert restored.to_dict() == fresh
