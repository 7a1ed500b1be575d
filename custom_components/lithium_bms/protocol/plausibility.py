"""The plausibility gate: physical bounds and cross-field consistency.

Every snapshot a driver produces passes :func:`check` before anything uses it
(:class:`~.client.BmsClient` runs it). A checksum proves only that bytes were
not damaged in a way the checksum sees; a weak one (a byte sum) lets a frame
spliced from two frames through. The gate refuses what no real pack can show,
so such a frame is bad data, never a value.

Families declare only what is special to them, through ``BmsDriver.limits``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ProtocolError
from .snapshot import BatterySnapshot

type Bounds = tuple[float, float]


class ImplausibleDataError(ProtocolError):
    """A snapshot that passed the frame checks but no real pack can show."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What a real pack of a family can report.

    The defaults are generous physical bounds for every chemistry we support
    (LTO cells near 1.5 V to NMC cells near 4.35 V, with room for a deeply
    discharged or over-charged cell, which a BMS must still be able to show).
    """

    cell_voltage: Bounds = (0.0, 5.0)
    pack_voltage: Bounds = (0.0, 1000.0)
    current: Bounds = (-2000.0, 2000.0)
    temperature: Bounds = (-55.0, 150.0)
    capacity: Bounds = (0.0, 100_000.0)
    cycles: Bounds = (0, 1_000_000)
    balance_current: Bounds = (-20.0, 20.0)
    min_cells: int = 1
    max_cells: int = 48
    # The pack voltage may differ from the sum of the cells by this much:
    # shunt and MOSFET drop under load, and rounding of each value.
    cell_sum_tolerance: float = 0.05
    cell_sum_margin: float = 1.0
    # Remaining capacity may exceed the full capacity by this much (rounding).
    remaining_margin: float = 0.02


DEFAULT_LIMITS = Limits()


def check(snapshot: BatterySnapshot, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise :class:`ImplausibleDataError` unless ``snapshot`` is plausible."""
    _within("pack voltage", snapshot.voltage, limits.pack_voltage, "V")
    if snapshot.measures_current:
        _within("current", snapshot.current, limits.current, "A")
    _check_cells(snapshot, limits)
    probes = snapshot.temperatures
    if not _all_within(
        [p.value for p in probes if p.value is not None], limits.temperature
    ):
        for index, probe in enumerate(probes, start=1):
            if probe.value is not None:
                _within(f"temperature {index}", probe.value, limits.temperature, "°C")
    for name, percent in (
        ("state of charge", snapshot.state_of_charge),
        ("state of health", snapshot.state_of_health),
    ):
        if percent is not None:
            _within(name, percent, (0.0, 100.0), "%")
    _check_capacities(snapshot, limits)
    if snapshot.cycles is not None:
        _within("cycles", snapshot.cycles, limits.cycles, "")
    if snapshot.balance_current is not None:
        _within(
            "balance current", snapshot.balance_current, limits.balance_current, "A"
        )
    resistances = snapshot.cell_resistances
    if not _all_within(resistances, (0.0, math.inf)):
        for index, resistance in enumerate(resistances, start=1):
            _within(f"cell {index} resistance", resistance, (0.0, math.inf), "Ω")


def _check_cells(snapshot: BatterySnapshot, limits: Limits) -> None:
    cells = snapshot.cell_voltages
    if not limits.min_cells <= len(cells) <= limits.max_cells:
        raise ImplausibleDataError(
            f"{len(cells)} cells, outside {limits.min_cells}-{limits.max_cells}"
        )
    reported = snapshot.reported_cell_count
    if reported is not None and reported != len(cells):
        raise ImplausibleDataError(
            f"the BMS reports {reported} cells but sent {len(cells)} cell voltages"
        )
    if not _all_within(cells, limits.cell_voltage):
        for index, cell in enumerate(cells, start=1):
            _within(f"cell {index} voltage", cell, limits.cell_voltage, "V")
    if not cells:
        return
    total = sum(cells)
    allowed = limits.cell_sum_margin + limits.cell_sum_tolerance * total
    if abs(total - snapshot.voltage) > allowed:
        raise ImplausibleDataError(
            f"pack voltage {snapshot.voltage} V disagrees with the sum of the "
            f"cells {total:.3f} V"
        )


def _check_capacities(snapshot: BatterySnapshot, limits: Limits) -> None:
    for name, capacity in (
        ("remaining capacity", snapshot.remaining_capacity),
        ("full capacity", snapshot.full_capacity),
        ("design capacity", snapshot.design_capacity),
    ):
        if capacity is not None:
            _within(name, capacity, limits.capacity, "Ah")
    remaining, full = snapshot.remaining_capacity, snapshot.full_capacity
    if (
        remaining is not None
        and full is not None
        and full > 0
        and remaining > full * (1 + limits.remaining_margin) + 0.1
    ):
        raise ImplausibleDataError(
            f"remaining capacity {remaining} Ah above the full capacity {full} Ah"
        )


def _all_within(values: Sequence[float], bounds: Bounds) -> bool:
    """Whether every value is finite and within ``bounds``, without naming any.

    The quick test of a snapshot that passes; False sends the caller through
    :func:`_within` value by value, which names the first one outside.
    """
    if not values:
        return True
    low, high = bounds
    # A sum is finite only when every value is (NaN and infinities carry over).
    return low <= min(values) and max(values) <= high and math.isfinite(sum(values))


def _within(name: str, value: float, bounds: Bounds, unit: str) -> None:
    low, high = bounds
    if not (math.isfinite(value) and low <= value <= high):
        raise ImplausibleDataError(
            f"{name} {value}{unit and ' ' + unit} outside {low}..{high}"
        )


class CountGuard:
    """Keeps the number of cells and of probes stable within one connection.

    A pack does not grow cells or temperature probes while connected; a frame
    that says so is spliced or forged. The first plausible snapshot after a
    connect sets each count. A different count is refused, unless it repeats
    ``settle`` times in a row: then it is the pack's real count (the first one
    was the odd one out).
    """

    def __init__(self, settle: int = 3) -> None:
        """Start with no counts."""
        self._settle = settle
        self._counts: dict[str, int] = {}
        self._candidates: dict[str, tuple[int, int]] = {}

    def reset(self) -> None:
        """Forget the counts (a new connection)."""
        self._counts.clear()
        self._candidates.clear()

    def check(self, snapshot: BatterySnapshot) -> None:
        """Raise :class:`ImplausibleDataError` for a count that changed."""
        counts = {
            "cell": len(snapshot.cell_voltages),
            "temperature probe": len(snapshot.temperatures),
        }
        for name, count in counts.items():
            self._check(name, count)
        # Only a snapshot that passed every count moves the settled counts.
        for name, count in counts.items():
            if self._counts.get(name) is None:
                self._counts[name] = count

    def _check(self, name: str, count: int) -> None:
        known = self._counts.get(name)
        if known is None or count == known:
            self._candidates.pop(name, None)
            return
        candidate, repeats = self._candidates.get(name, (count, 0))
        repeats = repeats + 1 if candidate == count else 1
        if repeats >= self._settle:
            self._counts[name] = count
            self._candidates.pop(name, None)
            return
        self._candidates[name] = (count, repeats)
        raise ImplausibleDataError(
            f"the {name} count changed from {known} to {count} within a connection"
        )
