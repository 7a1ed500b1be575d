"""Standby drain on synthetic packs of known standby current."""

import json
import random

import pytest

from custom_components.lithium_bms.analytics.integrator import InvalidStateError
from custom_components.lithium_bms.analytics.standby import (
    StandbyDrain,
    charge_level,
)
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot

T0 = 1_700_000_000.0
HOUR = 3600.0
CAPACITY = 100.0
STANDBY = 0.1  # A: 2.4 Ah, so 2.4 % of 100 Ah, a day


def rest(
    drain: StandbyDrain,
    start: float,
    hours: float,
    charge: float,
    *,
    step: float = 60.0,
    integer_soc: bool = False,
    seed: int = 1,
) -> tuple[float, float]:
    """A pack at rest losing STANDBY A; returns the end time and charge (Ah)."""
    rng = random.Random(seed)
    now = start
    for _ in range(round(hours * HOUR / step)):
        now += step
        charge -= STANDBY * step / HOUR
        snapshot = BatterySnapshot(
            voltage=13.3,
            current=rng.choice((0.0, 0.0, 0.05, -0.05)),  # sensor noise at rest
            state_of_charge=round(charge / CAPACITY * 100),
            remaining_capacity=None if integer_soc else round(charge, 2),
            full_capacity=None if integer_soc else CAPACITY,
        )
        drain.update(now, snapshot.current, charge_level(snapshot))
    return now, charge


def test_measures_a_known_standby_current() -> None:
    drain = StandbyDrain(update_interval=60)
    _, charge = rest(drain, T0, 36, 80.0)
    assert drain.drain == pytest.approx(2.4, rel=0.05)
    days = drain.days_until_empty
    assert days is not None
    assert days == pytest.approx(charge / (STANDBY * 24), rel=0.05)


def test_an_integer_soc_needs_longer_but_gets_there() -> None:
    drain = StandbyDrain(update_interval=60)
    rest(drain, T0, 12, 80.0, integer_soc=True)
    assert drain.drain is None  # not yet two points down
    rest(drain, T0 + 12 * HOUR, 60, 80.0 - 1.2, integer_soc=True)
    assert drain.drain == pytest.approx(2.4, rel=0.1)


def test_unknown_before_hours_at_rest() -> None:
    drain = StandbyDrain(update_interval=60)
    assert drain.days_until_empty is None
    rest(drain, T0, 11, 80.0)
    assert drain.drain is None
    assert drain.days_until_empty is None
    assert drain.level == pytest.approx(80 - 1.1, abs=0.01)


def test_a_flat_level_measures_nothing() -> None:
    drain = StandbyDrain(update_interval=60)
    for minute in range(3 * 24 * 60):
        drain.update(T0 + minute * 60, 0.0, 80.0)
    assert drain.drain is None


def test_current_a_gap_a_rise_or_time_backwards_starts_a_new_rest() -> None:
    for interruption in ("current", "gap", "rise", "backwards", "no level"):
        drain = StandbyDrain(update_interval=60)
        end, charge = rest(drain, T0, 8, 80.0)
        if interruption == "current":
            drain.update(end + 60, -5.0, charge)
        elif interruption == "gap":
            end += HOUR
        elif interruption == "rise":
            drain.update(end + 60, 0.0, 90.0)
            charge = 90.0
        elif interruption == "backwards":
            end -= 2 * HOUR
        else:
            drain.update(end + 60, 0.0, None)
        rest(drain, end + 120, 8, charge)
        assert drain.drain is None, interruption


def test_keeps_the_drain_after_the_rest_ends() -> None:
    drain = StandbyDrain(update_interval=60)
    end, charge = rest(drain, T0, 24, 80.0)
    measured = drain.drain
    drain.update(end + 60, -20.0, charge - 1)
    assert drain.drain == measured
    assert drain.level == charge - 1


def test_survives_a_restart_mid_rest() -> None:
    drain = StandbyDrain(update_interval=60)
    end, charge = rest(drain, T0, 8, 80.0)
    restored = StandbyDrain.from_dict(json.loads(json.dumps(drain.to_dict())), 60)
    rest(restored, end, 28, charge)
    assert restored.drain == pytest.approx(2.4, rel=0.05)


def test_charge_level_prefers_the_capacity() -> None:
    def level(**fields: float | None) -> float | None:
        return charge_level(BatterySnapshot(voltage=13.3, current=0.0, **fields))

    assert level(state_of_charge=50, remaining_capacity=42.5, full_capacity=85) == 50
    assert level(state_of_charge=51, remaining_capacity=42.0, full_capacity=85) == (
        pytest.approx(49.41, abs=0.01)
    )
    assert level(state_of_charge=51, remaining_capacity=42.0) == 51
    assert level(state_of_charge=51, remaining_capacity=90.0, full_capacity=85) == 100
    assert level(state_of_charge=120) is None
    assert level() is None


def good() -> dict[str, object]:
    drain = StandbyDrain(update_interval=60)
    rest(drain, T0, 24, 80.0)
    return drain.to_dict()


@pytest.mark.parametrize(
    "change",
    [
        {"drain": 0.0},
        {"drain": "2"},
        {"level": 101.0},
        {"start_level": None},
        {"lowest": -1.0},
        {"sum_n": None},
        {"sum_t_level": float("nan")},
        {"last_time": "yesterday"},
    ],
)
def test_refuses_corrupt_state(change: dict[str, object]) -> None:
    assert StandbyDrain.from_dict(good(), 60).to_dict() == good()
    with pytest.raises(InvalidStateError):
        StandbyDrain.from_dict(good() | change, 60)
