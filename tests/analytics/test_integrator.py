import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.analytics.integrator import (
    Integrator,
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
    assert integrator.add(600, 1) is None  # backwards
    assert integrator.add(601, 1) is None  # same time
    assert integrator.add(700, math.nan) is None
    assert integrator.add(math.inf, 1) is None
    bridged = integrator.add(1201, 3)
    assert bridged is not None
    assert bridged.bridged
    assert bridged.positive == pytest.approx(1200)


def test_restore_drops_invalid_samples() -> None:
    integrator = Integrator(30)
    integrator.restore({"last_time": "soon", "last_value": 3})
    assert integrator.to_dict() == {"last_time": None, "last_value": None}
    integrator.restore({"last_time": 10, "last_value": True})
    assert integrator.to_dict() == {"last_time": None, "last_value": None}
    integrator.restore({"last_time": 10, "last_value": 2})
    assert integrator.to_dict() == {"last_time": 10.0, "last_value": 2.0}
