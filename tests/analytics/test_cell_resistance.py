"""Per-cell resistance from current steps, on synthetic packs of known truth."""

import json
import random

import pytest

from custom_components.lithium_bms.analytics.integrator import InvalidStateError
from custom_components.lithium_bms.analytics.resistance import (
    MIN_STEPS,
    WINDOW,
    CellResistance,
)

T0 = 1_700_000_000.0
TRUTH = (0.0005, 0.0005, 0.0010, 0.0005)  # cell 3 has twice the resistance


def cells(
    current: float, rng: random.Random, truth: tuple[float, ...] = TRUTH
) -> tuple[float, ...]:
    """Cell voltages under ``current``: 3.30 V open circuit, 1 mV resolution."""
    return tuple(
        round(3.30 + r * current + rng.uniform(-0.0005, 0.0005), 3) for r in truth
    )


def feed(
    estimator: CellResistance,
    steps: int,
    *,
    seed: int = 1,
    truth: tuple[float, ...] = TRUTH,
    interval: float = 10.0,
    start: float = T0,
) -> float:
    """Readings ``interval`` apart, the current jumping between loads."""
    rng = random.Random(seed)
    now = start
    for _ in range(steps):
        current = rng.choice((-80.0, -40.0, -5.0, 20.0, 60.0))
        estimator.update(now, current, cells(current, rng, truth))
        now += interval
    return now


def test_finds_the_cell_with_twice_the_resistance() -> None:
    estimator = CellResistance()
    feed(estimator, 200)
    estimates = estimator.resistances
    assert all(r is not None for r in estimates)
    for estimate, truth in zip(estimates, TRUTH, strict=True):
        assert estimate == pytest.approx(truth, rel=0.15)
    assert estimator.weak_cell == 3
    assert estimator.known


def test_matched_cells_have_no_weak_cell() -> None:
    estimator = CellResistance()
    feed(estimator, 200, truth=(0.0005,) * 4)
    assert estimator.known
    assert estimator.weak_cell is None


def test_unknown_until_enough_steps() -> None:
    estimator = CellResistance()
    estimator.update(T0, -10.0, (3.3, 3.3))
    estimator.update(T0 + 10, -40.0, (3.29, 3.28))
    assert estimator.resistances == (None, None)
    assert estimator.weak_cell is None
    assert not estimator.known
    assert CellResistance().weak_cell is None


def test_only_sharp_close_steps_count() -> None:
    estimator = CellResistance()
    # A small change in current, a gap, and a clock going backwards: no step.
    estimator.update(T0, -10.0, (3.30, 3.30))
    estimator.update(T0 + 10, -12.0, (3.299, 3.299))
    estimator.update(T0 + 200, -60.0, (3.27, 3.27))
    estimator.update(T0 + 100, -10.0, (3.30, 3.30))
    assert estimator.to_dict() == {"steps": [[], []]}
    # A step whose balancer changed, or whose cells moved against the current.
    estimator.update(T0 + 110, -60.0, (3.28, 3.28), balancing=frozenset({1}))
    estimator.update(T0 + 120, -10.0, (3.30, 3.25), balancing=frozenset({1}))
    assert estimator.to_dict() == {"steps": [[], []]}
    estimator.update(T0 + 130, -10.0, (3.30, 3.30), balancing=frozenset({1}))
    estimator.update(T0 + 140, -60.0, (3.28, 3.28), balancing=frozenset({1}))
    assert estimator.to_dict()["steps"] == [[pytest.approx(0.0004)]] * 2


def test_bad_readings_and_a_new_cell_count_restart() -> None:
    estimator = CellResistance()
    feed(estimator, 100)
    estimator.update(T0 + 5000, float("nan"), (3.3,) * 4)
    estimator.update(T0 + 5010, -60.0, ())
    assert estimator.known
    estimator.update(T0 + 5020, -60.0, (3.3,) * 8)
    assert estimator.resistances == (None,) * 8


def test_window_keeps_the_last_steps() -> None:
    estimator = CellResistance()
    feed(estimator, 400)
    assert all(len(steps) == WINDOW for steps in estimator.to_dict()["steps"])


def test_a_worsening_cell_moves_the_estimate_slowly() -> None:
    estimator = CellResistance()
    end = feed(estimator, 300)
    worse = (0.0005, 0.0005, 0.0020, 0.0005)
    # A few steps move the median little; a window of them moves it all the way.
    feed(estimator, 8, seed=2, truth=worse, start=end)
    estimate = estimator.resistances[2]
    assert estimate is not None
    assert estimate < 0.0013
    feed(estimator, 300, seed=3, truth=worse, start=end + 1000)
    assert estimator.resistances[2] == pytest.approx(0.0020, rel=0.15)


def test_survives_a_restart() -> None:
    estimator = CellResistance()
    feed(estimator, MIN_STEPS * 4)
    restored = CellResistance.from_dict(json.loads(json.dumps(estimator.to_dict())))
    assert restored.resistances == estimator.resistances
    assert restored.weak_cell == estimator.weak_cell


@pytest.mark.parametrize(
    "steps",
    [
        None,
        "0.001",
        [0.001],
        [[0.001], [0.001, 0.002]],
        [["0.001"]],
        [[float("nan")]],
        [[5.0]],
        [[0.001] * (WINDOW + 1)],
    ],
)
def test_refuses_corrupt_state(steps: object) -> None:
    with pytest.raises(InvalidStateError):
        CellResistance.from_dict({"steps": steps})
