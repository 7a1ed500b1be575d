"""MOSFET heating learnt on a synthetic BMS of known thermal resistance."""

import json
import math
import random

import pytest

from custom_components.lithium_bms.analytics.integrator import InvalidStateError
from custom_components.lithium_bms.analytics.thermal import (
    DEFAULT_LIMIT,
    MARGIN,
    HeatModel,
)

T0 = 1_700_000_000.0
HOUR = 3600.0
# 2 mΩ of MOSFETs on 2.5 K/W to the air: 0.005 K/A², +50 K at 100 A.
HEATING = 0.002 * 2.5


class Bms:
    """A heat sink that follows the load with a first-order lag."""

    def __init__(self, seed: int, lag: float = 500.0) -> None:
        self.rng = random.Random(seed)
        self.lag = lag
        self.temperature = 25.0

    def ambient(self, now: float) -> float:
        return 25.0 + 3 * math.sin(2 * math.pi * (now - T0) / 86400)

    def step(self, now: float, seconds: float, current: float) -> float:
        settle = self.ambient(now) + HEATING * current**2
        self.temperature += (settle - self.temperature) * (
            1 - math.exp(-seconds / self.lag)
        )
        return round(self.temperature + self.rng.uniform(-0.3, 0.3))


def run(
    model: HeatModel,
    bms: Bms,
    start: float,
    hours: float,
    *,
    step: float = 30.0,
    referenced: bool = True,
) -> float:
    """Loads held for 20-60 minutes each; returns the end time."""
    now, current, until = start, 0.0, start
    while now < start + hours * HOUR:
        if now >= until:
            current = bms.rng.choice((0.0, 0.0, -10.0, -30.0, -50.0, 60.0, -80.0))
            until = now + bms.rng.uniform(1200, 3600)
        now += step
        mosfet = bms.step(now, step, current)
        reference = round(bms.ambient(now), 1) if referenced else None
        model.update(now, current, mosfet, reference)
    return now


@pytest.mark.parametrize("lag", [400.0, 600.0, 900.0])
def test_learns_the_heating_of_a_known_bms(lag: float) -> None:
    model = HeatModel(update_interval=30)
    run(model, Bms(1, lag), T0, 48)
    assert model.coefficient == pytest.approx(HEATING, rel=0.15)
    # At 100 A the heat sink would settle near 75 °C: within the margin.
    assert model.risk(-100.0, 25.0)
    assert model.risk(-40.0, 25.0) is False
    projected = model.projected(-100.0, 25.0)
    assert projected is not None
    assert projected >= DEFAULT_LIMIT - MARGIN
    # A lower protection limit warns at a lower current.
    assert model.risk(-40.0, 25.0, limit=40.0)


def test_unknown_until_load_and_rest_were_both_seen() -> None:
    model = HeatModel(update_interval=30)
    bms = Bms(2)
    assert model.risk(-100.0, 25.0) is None
    now = T0
    for _ in range(int(4 * HOUR / 30)):  # hours at one steady load only
        now += 30
        model.update(now, -50.0, bms.step(now, 30, -50.0), 25.0)
    assert model.coefficient is None
    assert model.projected(-50.0, 25.0) is None


def test_without_a_reference_probe_the_offset_takes_the_surroundings() -> None:
    model = HeatModel(update_interval=30)
    run(model, Bms(3), T0, 48, referenced=False)
    assert model.coefficient == pytest.approx(HEATING, rel=0.2)
    assert model.projected(0.0, None) == pytest.approx(25.0, abs=2)
    # A reference that appears does not mix with what was learnt without it.
    assert model.projected(0.0, 25.0) is None
    model.update(T0 + 49 * HOUR, 0.0, 25.0, 25.0)
    assert model.coefficient is None


def test_a_gap_or_a_clock_going_backwards_waits_for_the_filter() -> None:
    model = HeatModel(update_interval=30)
    end = run(model, Bms(4), T0, 48)
    learnt = model.to_dict()
    model.update(end + 3 * HOUR, -80.0, 90.0, 25.0)  # after a gap, hot
    model.update(end + 3 * HOUR + 30, -80.0, 90.0, 25.0)
    model.update(end + HOUR, -80.0, 90.0, 25.0)  # clock went backwards
    model.update(end + HOUR + 30, -80.0, 90.0, 25.0)
    model.update(end + HOUR + 60, -80.0, None, 25.0)  # probe lost
    kept = model.to_dict()
    for key in ("weight", "x", "y", "xx", "xy", "loaded", "rested"):
        assert kept[key] == learnt[key]


def test_survives_a_restart() -> None:
    model = HeatModel(update_interval=30)
    bms = Bms(5)
    end = run(model, bms, T0, 36)
    restored = HeatModel.from_dict(json.loads(json.dumps(model.to_dict())), 30)
    assert restored.coefficient == model.coefficient
    run(restored, bms, end, 12)
    assert restored.coefficient == pytest.approx(HEATING, rel=0.15)


def good() -> dict[str, object]:
    model = HeatModel(update_interval=30)
    run(model, Bms(6), T0, 1)
    return model.to_dict()


@pytest.mark.parametrize(
    "change",
    [
        {"weight": -1.0},
        {"xx": "1"},
        {"y": math.inf},
        {"heating": None},
        {"heating": -1.0},
        {"settled_at": "soon"},
        {"referenced": "yes"},
    ],
)
def test_refuses_corrupt_state(change: dict[str, object]) -> None:
    assert HeatModel.from_dict(good(), 30).to_dict() == good()
    with pytest.raises(InvalidStateError):
        HeatModel.from_dict(good() | change, 30)
