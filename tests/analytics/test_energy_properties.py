"""Energy totals never move more than the true pack did, whatever the clock does.

A sequence of readings is drawn in real time; between two readings the wall
clock may jump forward (a clock that runs ahead) or backward (by any amount: a
clock that is corrected), a reading may repeat the previous one, and a reading
may be garbage (NaN, infinite, or beyond any pack). With a monotonic clock the
forward jumps are of any size; without one (the first reading after a restart)
they are longer than the gap limit, as a shorter jump cannot be told from time
that really passed. The true
energy is what the valid readings say over real time: the split trapezoid of
every two consecutive valid readings. The counter must never go down, and never
count more than that on either side. Without clock events and garbage it counts
exactly that, save for intervals longer than the gap limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.analytics.chemistry import LIFEPO4
from custom_components.lithium_bms.analytics.energy import (
    WATT_SECONDS_PER_KWH,
    EnergyCounter,
)
from custom_components.lithium_bms.analytics.integrator import (
    max_gap,
    split_trapezoid,
)
from custom_components.lithium_bms.analytics.soc import SocEstimator
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot

T0 = 1_700_000_000.0
INTERVAL = 30.0
GAP = max_gap(INTERVAL)

CLOCK_EVENTS = ("none", "ahead", "back", "repeat")
GARBAGE = st.one_of(
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
    st.floats(2_001, 1e12),
    st.floats(-1e12, -2_001),
)


@dataclass
class Reading:
    real_step: float  # seconds of real time since the previous reading
    clock: str  # what the clock did before this reading
    jump: float
    voltage: float
    current: float
    valid: bool


@st.composite
def readings(draw: st.DrawFn, *, monotonic: bool = False) -> list[Reading]:
    base = draw(st.floats(10, 100))
    out: list[Reading] = []
    for _ in range(draw(st.integers(0, 40))):
        clock = draw(st.sampled_from(CLOCK_EVENTS))
        if clock == "repeat" and out:
            out.append(
                Reading(
                    0.0, clock, 0.0, out[-1].voltage, out[-1].current, out[-1].valid
                )
            )
            continue
        clock = "none" if clock == "repeat" else clock
        shortest = 0.001 if monotonic else GAP + 1
        jump = draw(st.floats(shortest, 1e8)) if clock == "ahead" else 0.0
        jump = draw(st.floats(0.001, 1e8)) if clock == "back" else jump
        voltage = base * draw(st.floats(0.9, 1.1))
        current = draw(st.floats(-300, 300))
        valid = draw(st.integers(0, 4)) > 0
        if not valid:
            if draw(st.booleans()):
                current = draw(GARBAGE)
            else:
                voltage = draw(
                    st.sampled_from([math.nan, math.inf, -1.0, 1_001.0, 838_860.0])
                )
        step = draw(st.floats(0.5, GAP * 1.5))
        out.append(Reading(step, clock, jump, voltage, current, valid))
    return out


def true_energy(sequence: list[Reading], gap: float = math.inf) -> tuple[float, float]:
    """Charge and discharge (Ws) of the valid readings, over real time.

    Intervals longer than ``gap`` are left out.
    """
    charge = discharge = real = 0.0
    previous: tuple[float, Reading] | None = None
    for reading in sequence:
        # The same float arithmetic as the clock in ``feed``.
        time = T0 + (real := real + reading.real_step)
        if not reading.valid:
            previous = None
            continue
        if previous is not None and 0 < time - previous[0] <= gap:
            above, below = split_trapezoid(
                previous[1].voltage * previous[1].current,
                reading.voltage * reading.current,
                time - previous[0],
            )
            charge += above
            discharge += below
        previous = time, reading
    return charge, discharge


def feed(
    counter: EnergyCounter,
    sequence: list[Reading],
    capacity: float | None,
    *,
    monotonic: bool = False,
) -> list[tuple[float, float]]:
    """The counter's totals (Ws) after each reading."""
    real = offset = 0.0
    totals = []
    for reading in sequence:
        real += reading.real_step
        if reading.clock == "ahead":
            offset += reading.jump
        elif reading.clock == "back":
            offset -= reading.jump
        counter.update(
            T0 + real + offset,
            reading.voltage,
            reading.current,
            capacity,
            monotonic=T0 + real if monotonic else None,
        )
        totals.append(
            (
                counter.charge_energy * WATT_SECONDS_PER_KWH,
                counter.discharge_energy * WATT_SECONDS_PER_KWH,
            )
        )
    return totals


CAPACITY = st.one_of(st.none(), st.floats(50, 500))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Reading], bool]:
    monotonic = draw(st.booleans())
    return draw(readings(monotonic=monotonic)), monotonic


@settings(max_examples=500, deadline=None)
@given(scenarios(), CAPACITY)
def test_totals_are_monotonic_and_bounded_by_the_true_energy(
    scenario: tuple[list[Reading], bool], capacity: float | None
) -> None:
    sequence, monotonic = scenario
    totals = feed(EnergyCounter(INTERVAL), sequence, capacity, monotonic=monotonic)
    for (charge, discharge), (later_charge, later_discharge) in pairwise(totals):
        assert later_charge >= charge
        assert later_discharge >= discharge
    charge, discharge = totals[-1] if totals else (0.0, 0.0)
    true_charge, true_discharge = true_energy(sequence)
    # 1 Ws of slack: a shifted clock rounds its seconds differently.
    assert 0 <= charge <= true_charge * (1 + 1e-9) + 1.0
    assert 0 <= discharge <= true_discharge * (1 + 1e-9) + 1.0


@settings(max_examples=300, deadline=None)
@given(readings(), CAPACITY)
def test_an_undisturbed_sequence_counts_exactly_the_true_energy(
    sequence: list[Reading], capacity: float | None
) -> None:
    clean = [
        Reading(r.real_step, "none", 0.0, r.voltage, r.current, valid=True)
        for r in sequence
        if r.valid and r.clock != "repeat"
    ]
    charge, discharge = (feed(EnergyCounter(INTERVAL), clean, capacity) or [(0, 0)])[-1]
    true_charge, true_discharge = true_energy(clean, GAP)
    assert charge == pytest.approx(true_charge, rel=1e-9, abs=1e-6)
    assert discharge == pytest.approx(true_discharge, rel=1e-9, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(readings(), CAPACITY, st.floats(0, 100) | st.just(math.nan))
def test_the_soc_estimate_stays_within_0_and_100(
    sequence: list[Reading], capacity: float | None, soc: float
) -> None:
    estimator = SocEstimator(LIFEPO4, INTERVAL)
    real = offset = 0.0
    for reading in sequence:
        real += reading.real_step
        offset += {"ahead": reading.jump, "back": -reading.jump}.get(reading.clock, 0)
        estimator.update(
            T0 + real + offset,
            BatterySnapshot(
                voltage=reading.voltage,
                current=reading.current,
                cell_voltages=(3.3, 3.3, 3.3, 3.3),
                state_of_charge=soc,
                full_capacity=capacity,
            ),
        )
        estimate = estimator.state_of_charge
        assert estimate is None or 0 <= estimate <= 100
