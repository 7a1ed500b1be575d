"""The soak's energy bound, on a reading sequence that once fooled it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bench.ha.soak import SoakFigures, Truth, _Checker
from custom_components.lithium_bms.analytics.energy import EnergyCounter
from custom_components.lithium_bms.protocol.snapshot import SwitchKind

VOLTS, AMPS = 52.0, 20.0


def _truth() -> Truth:
    return Truth(
        cells=(VOLTS / 4,) * 4,
        current=AMPS,
        soc=50.0,
        remaining=50.0,
        temperatures=(20.0,),
        mosfet_temperature=25.0,
        switches=((SwitchKind.CHARGE, True),),
        fets=((SwitchKind.CHARGE, True),),
    )


def _checker(counter: EnergyCounter, clock: Any) -> _Checker:
    """A checker bound to ``counter`` only: what ``check_energy`` reads."""
    checker = _Checker.__new__(_Checker)
    checker.clock = clock
    checker.figures = SoakFigures(family="test", steps=0, seed=0)
    checker.coordinator = SimpleNamespace(tracker=SimpleNamespace(energy=counter))  # type: ignore[assignment]
    checker._energy = None
    return checker


def test_a_read_back_first_after_setup_opens_the_window_at_the_setup_reading() -> None:
    """Setup reads at 0 s, a command's read-back publishes at 0.5 s, the next
    reading is at 10 s: the tracker counted 10 s, so the bound must too."""
    counter = EnergyCounter(update_interval=10)
    clock = SimpleNamespace(now=0.0)
    checker = _checker(counter, clock)
    counter.update(0.0, VOLTS, AMPS, monotonic=0.0)  # the setup's reading
    checker._tracked = (0.0, counter.to_dict()["last_power"])  # as attach sees it
    clock.now = 0.5
    checker.check_energy(0.5, _truth())  # the read-back: not integrated
    clock.now = 10.0
    counter.update(10.0, VOLTS, AMPS, monotonic=10.0)
    checker._tracked = (10.0, counter.to_dict()["last_power"])
    checker.check_energy(10.0, _truth())
    assert checker.figures.problems == []
    assert checker.figures.energy_counted_kwh == VOLTS * AMPS * 10 / 3_600_000
