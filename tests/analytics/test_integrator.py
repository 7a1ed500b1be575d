import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.analytics.integrator import (
    Integrator,
    InvalidStateError,
    current_limit,
    max_gap,
    split_trapezoid,
)


def test_gap_limit_is_ten_minutes_or_two_intervals() -> None:
    assert max_gap(30) == 600
    assert max_gap(300) == 600
    assert max_gap(400) == 800


@pytest.mark.parametrize(
    ("start", "end", "seconds", "expected"),
    [
        (10.0, 20.0, 4.0, (60.0, 0.0)),
        (-10.0, -20.0, 4.0, (0.0, 60.0)),
        (0.0, 10.0, 2.0, (10.0, 0.0)),
        (0.0, -10.0, 2.0, (0.0, 10.0)),
        # +10 -> -30 over 40 s crosses zero at 10 s: 10*10/2 above, 30*30/2 below.
        (10.0, -30.0, 40.0, (50.0, 450.0)),
        (-30.0, 10.0, 40.0, (50.0, 450.0)),
    ],
)
def test_split_trapezoid(
    start: float, end: float, seconds: float, expected: tuple[float, float]
) -> None:
    assert split_trapezoid(start, end, seconds) == pytest.approx(expected)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-1e4, 1e4),
    st.floats(-1e4, 1e4),
    st.floats(0.001, 1e4),
)
def test_split_keeps_the_net_area_and_signs(
    start: float, end: float, seconds: float
) -> None:
    above, below = split_trapezoid(start, end, seconds)
    assert above >= 0
    assert below >= 0
    net = (start + end) / 2 * seconds
    assert above - below == pytest.approx(net, abs=1e-6)


def test_first_sample_starts_a_segment_and_later_ones_bridge() -> None:
    integrator = Integrator(30)
    first = integrator.add(1000, 5)
    assert first is not None
    assert not first.bridged
    assert first.net == 0
    step = integrator.add(1030, 7)
    assert step is not None
    assert step.bridged
    assert step.positive == pytest.approx(180)


def test_gap_and_bad_samples() -> None:
    integrator = Integrator(30)
    integrator.add(0, 1)
    gap = integrator.add(601, 1)
    assert gap is not None
    assert not gap.bridged
    assert integrator.add(601, 1) is None  # a repeat
    bridged = integrator.add(631, 1)
    assert bridged is not None
    assert bridged.positive == pytest.approx(30)
    same_time = integrator.add(631, 5)  # another value at the same time
    assert same_time is not None
    assert not same_time.bridged
    bridged = integrator.add(641, 5)
    assert bridged is not None
    assert bridged.positive == pytest.approx(50)


def test_time_going_backwards_starts_a_new_segment() -> None:
    integrator = Integrator(30)
    integrator.add(1000, 1)
    integrator.add(1030, 1)
    backwards = integrator.add(900, 1)
    assert backwards is not None
    assert not backwards.bridged
    assert backwards.net == 0
    step = integrator.add(930, 1)
    assert step is not None
    assert step.bridged
    assert step.positive == pytest.approx(30)


def test_a_clock_that_ran_ahead_does_not_freeze_the_integrator() -> None:
    integrator = Integrator(30)
    integrator.add(1000, 1)
    ahead = integrator.add(1000 + 365 * 86400, 1)  # a year ahead: a gap
    assert ahead is not None
    assert not ahead.bridged
    assert integrator.add(1030, 1) is not None  # corrected
    step = integrator.add(1060, 1)
    assert step is not None
    assert step.bridged
    assert step.positive == pytest.approx(30)


def test_a_restored_future_sample_does_not_freeze_the_integrator() -> None:
    integrator = Integrator(30)
    integrator.restore({"last_time": 5e9, "last_value": 1.0})
    first = integrator.add(1000, 1)
    assert first is not None
    assert not first.bridged
    step = integrator.add(1030, 1)
    assert step is not None
    assert step.bridged


@pytest.mark.parametrize(
    ("now", "value"), [(60, math.nan), (60, math.inf), (math.nan, 1), (math.inf, 1)]
)
def test_a_refused_sample_breaks_the_segment(now: float, value: float) -> None:
    integrator = Integrator(30)
    integrator.add(0, 1)
    integrator.add(30, 1)
    assert integrator.add(now, value) is None
    after = integrator.add(90, 1)
    assert after is not None
    assert not after.bridged
    step = integrator.add(120, 1)
    assert step is not None
    assert step.bridged


def test_interrupt_starts_a_new_segment() -> None:
    integrator = Integrator(30)
    integrator.add(0, 1)
    integrator.interrupt()
    step = integrator.add(30, 1)
    assert step is not None
    assert not step.bridged


def test_a_step_above_the_limit_is_refused_and_breaks_the_segment() -> None:
    integrator = Integrator(30)
    integrator.add(0, 10)
    assert integrator.add(10, 10, max_area=99) is None  # 100 > 99
    after = integrator.add(20, 10, max_area=99)
    assert after is not None
    assert not after.bridged
    step = integrator.add(29, 10, max_area=99)  # 90: within the limit
    assert step is not None
    assert step.positive == pytest.approx(90)


@pytest.mark.parametrize(
    "data",
    [
        {"last_time": "soon", "last_value": 3},
        {"last_time": 10, "last_value": True},
        {"last_time": 10, "last_value": None},
        {"last_time": None, "last_value": 2},
        {"last_time": math.nan, "last_value": 2},
        {"last_time": 10, "last_value": [2]},
        {"last_time": 10},
        {},
    ],
)
def test_restore_refuses_an_invalid_sample(data: dict[str, object]) -> None:
    integrator = Integrator(30)
    with pytest.raises(InvalidStateError):
        integrator.restore(data)
    assert integrator.to_dict() == {"last_time": None, "last_value": None}


def test_restore_takes_a_valid_sample() -> None:
    integrator = Integrator(30)
    integrator.restore({"last_time": None, "last_value": None})
    assert integrator.to_dict() == {"last_time": None, "last_value": None}
    integrator.restore({"last_time": 10, "last_value": 2})
    assert integrator.to_dict() == {"last_time": 10.0, "last_value": 2.0}


@pytest.mark.parametrize(
    ("capacity", "limit"),
    [
        (None, 2000.0),
        (0.0, 2000.0),
        (-5.0, 2000.0),
        (math.nan, 2000.0),
        (100.0, 1000.0),
        (2.0, 50.0),
        (500.0, 2000.0),
    ],
)
def test_current_limit(capacity: float | None, limit: float) -> None:
    assert current_limit(capacity) == limit


def test_a_wall_clock_that_jumps_ahead_within_the_gap_adds_nothing() -> None:
    integrator = Integrator(30)
    integrator.add(0, 1, monotonic=100)
    step = integrator.add(560, 1, monotonic=110)  # the wall clock jumped 550 s
    assert step is not None
    assert step.bridged
    assert step.positive == pytest.approx(10)
    step = integrator.add(570, 1, monotonic=120)
    assert step is not None
    assert step.positive == pytest.approx(10)


def test_both_clocks_must_move_forward_within_the_gap() -> None:
    integrator = Integrator(30)
    integrator.add(1000, 1, monotonic=100)
    back = integrator.add(990, 1, monotonic=110)  # wall corrected back
    assert back is not None
    assert not back.bridged
    slept = integrator.add(1700, 1, monotonic=115)  # the host slept 700 s
    assert slept is not None
    assert not slept.bridged
    step = integrator.add(1710, 1, monotonic=125)
    assert step is not None
    assert step.positive == pytest.approx(10)


def test_without_a_previous_monotonic_time_the_wall_clock_counts() -> None:
    integrator = Integrator(30)
    integrator.restore({"last_time": 1000, "last_value": 1})
    step = integrator.add(1020, 1, monotonic=5)
    assert step is not None
    assert step.positive == pytest.approx(20)
