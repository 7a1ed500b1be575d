"""The plausibility gate: what no real pack can show is never a value."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from custom_components.lithium_bms.protocol.plausibility import (
    CountGuard,
    ImplausibleDataError,
    Limits,
    check,
)
from custom_components.lithium_bms.protocol.snapshot import (
    BatterySnapshot,
    Temperature,
    TemperatureKind,
)

GOOD = BatterySnapshot(
    voltage=53.12,
    current=-12.5,
    cell_voltages=(3.32,) * 16,
    temperatures=(
        Temperature(TemperatureKind.CELL, 21.5),
        Temperature(TemperatureKind.MOSFET, None),
    ),
    state_of_charge=67.0,
    state_of_health=98.0,
    remaining_capacity=187.6,
    full_capacity=280.0,
    design_capacity=280.0,
    cycles=412,
    balance_current=0.4,
    cell_resistances=(0.061,) * 16,
    reported_cell_count=16,
)


def test_a_real_reading_passes() -> None:
    check(GOOD)


def changed(**fields: Any) -> BatterySnapshot:
    return dataclasses.replace(GOOD, **fields)


# Each of these was decoded "cleanly" from a frame with a valid checksum
# (issue 10, case 6, and the JK splice of case 1).
@pytest.mark.parametrize(
    ("snapshot", "reason"),
    [
        (changed(voltage=838_860.0), "pack voltage"),
        (changed(voltage=math.nan), "pack voltage"),
        (changed(current=-60_000.0), "current"),
        (changed(current=math.inf), "current"),
        (changed(state_of_charge=211.0), "state of charge"),
        (changed(state_of_charge=-1.0), "state of charge"),
        (changed(state_of_health=6053.0), "state of health"),
        (
            changed(temperatures=(Temperature(TemperatureKind.CELL, 27_112.0),)),
            "temperature 1",
        ),
        (
            changed(temperatures=(Temperature(TemperatureKind.CELL, -273.1),)),
            "temperature 1",
        ),
        (changed(cell_voltages=(), reported_cell_count=None), "0 cells"),
        (changed(cell_voltages=(3.3,) * 49, reported_cell_count=None), "49 cells"),
        (changed(reported_cell_count=15), "reports 15 cells"),
        (changed(cell_voltages=(3.32,) * 15 + (65.535,)), "cell 16 voltage"),
        (changed(cell_voltages=(3.32,) * 15 + (-0.1,)), "cell 16 voltage"),
        (changed(voltage=48.0), "sum of the cells"),
        (changed(voltage=60.0), "sum of the cells"),
        (changed(remaining_capacity=300.0), "above the full capacity"),
        (changed(remaining_capacity=-5.0), "remaining capacity"),
        (changed(full_capacity=6_553_500.0), "full capacity"),
        (changed(design_capacity=math.nan), "design capacity"),
        (changed(cycles=-1), "cycles"),
        (changed(balance_current=300.0), "balance current"),
        (changed(cell_resistances=(-0.5,) * 16), "cell 1 resistance"),
    ],
)
def test_implausible_readings_are_refused(
    snapshot: BatterySnapshot, reason: str
) -> None:
    with pytest.raises(ImplausibleDataError, match=reason):
        check(snapshot)


@pytest.mark.parametrize(
    "snapshot",
    [
        # Under load the pack voltage sags below the sum of the cells.
        changed(voltage=52.0),
        # Rounding of remaining against full.
        changed(remaining_capacity=280.1),
        # A disconnected probe and an unknown capacity are not errors.
        changed(temperatures=(Temperature(TemperatureKind.CELL, None),)),
        changed(full_capacity=None, remaining_capacity=1000.0),
        changed(reported_cell_count=None),
        # A balancer without a current sensor reports a placeholder current.
        changed(current=1e9, measures_current=False),
        # A deeply discharged LTO cell and a cold winter pack.
        changed(
            cell_voltages=(1.2,) * 16,
            voltage=19.2,
            temperatures=(Temperature(TemperatureKind.CELL, -30.0),),
        ),
    ],
)
def test_edge_readings_of_real_packs_pass(snapshot: BatterySnapshot) -> None:
    check(snapshot)


def test_a_family_declares_what_is_special_to_it() -> None:
    rack = Limits(max_cells=64)
    many = changed(cell_voltages=(3.3,) * 64, voltage=211.2, reported_cell_count=64)
    check(many, rack)
    with pytest.raises(ImplausibleDataError):
        check(many)


def cells(count: int) -> BatterySnapshot:
    return changed(
        cell_voltages=(3.3,) * count, voltage=3.3 * count, reported_cell_count=None
    )


def test_cell_count_is_stable_within_a_connection() -> None:
    guard = CountGuard(settle=3)
    guard.check(cells(16))
    guard.check(cells(16))
    with pytest.raises(ImplausibleDataError, match="cell count changed from 16 to 8"):
        guard.check(cells(8))
    guard.check(cells(16))  # back to normal
    for _ in range(2):
        with pytest.raises(ImplausibleDataError):
            guard.check(cells(15))
    guard.check(cells(15))  # the third in a row: the pack really has 15 now
    guard.check(cells(15))
    guard.reset()
    guard.check(cells(8))  # a new connection starts afresh


def test_an_interrupted_run_of_a_new_count_starts_over() -> None:
    guard = CountGuard(settle=2)
    guard.check(cells(16))
    with pytest.raises(ImplausibleDataError):
        guard.check(cells(8))
    with pytest.raises(ImplausibleDataError):
        guard.check(cells(9))  # another count: not the second 8 in a row
    guard.check(cells(9))
    guard.check(cells(9))


def test_probes_do_not_appear_within_a_connection() -> None:
    """A forged Daly 0x94 frame once added probes (and changed the cycles)."""
    guard = CountGuard()
    guard.check(GOOD)
    more = changed(temperatures=(Temperature(TemperatureKind.CELL, 20.0),) * 5)
    with pytest.raises(ImplausibleDataError, match="probe count changed from 2 to 5"):
        guard.check(more)
    guard.check(GOOD)
