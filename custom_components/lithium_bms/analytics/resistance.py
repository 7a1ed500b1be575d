"""Internal resistance of each cell, estimated from current steps.

When the current changes sharply between two readings taken close together,
the chemistry has no time to move, so each cell's voltage changes by its
resistance times the change in current: R = ΔV / ΔI (both signed, current
positive while charging). A pair of readings is a step when:

- the readings are at most ``MAX_STEP_SECONDS`` apart and in order (a clock
  that went backwards, a gap, or a new cell count gives no step);
- the current changed by at least ``MIN_STEP`` A;
- nothing else moved: the balancer's state is the same in both readings, the
  pack's own ΔV/ΔI is positive, and no cell's value lies beyond
  ``MAX_RESISTANCE`` (a cell that jumped against the current was disturbed by
  something else).

Each cell keeps its last ``WINDOW`` steps; its estimate is their median, shown
once ``MIN_STEPS`` steps were seen. The median ignores the odd disturbed step and
moves only when most recent steps move, so it follows ageing as a slow trend.
Small negative values from the voltage resolution are kept, so the median is
not biased upwards.

The value includes what lies between the BMS's sense wires: the cell's own
resistance plus its share of busbars and terminal contacts. A loose or
corroded busbar therefore shows as a weak cell, which is what matters.

A cell is weak when its estimate is at least ``WEAK_FACTOR`` times the median
of the others and ``WEAK_MARGIN`` above it.
"""

from __future__ import annotations

import reprlib
import statistics
from collections.abc import Mapping, Sequence
from typing import Any, Self

from .integrator import InvalidStateError, finite

MIN_STEP = 5.0
MAX_STEP_SECONDS = 60.0
MAX_RESISTANCE = 0.1
WINDOW = 50
MIN_STEPS = 10
WEAK_FACTOR = 1.5
WEAK_MARGIN = 0.0002


class CellResistance:
    """Per-cell ΔV/ΔI estimates and the weak cell among them."""

    def __init__(self) -> None:
        """Start without steps."""
        self._steps: list[list[float]] = []
        self._previous: tuple[float, float, tuple[float, ...], object] | None = None
        self._estimates: tuple[float | None, ...] = ()

    @property
    def resistances(self) -> tuple[float | None, ...]:
        """Each cell's estimate in ohms, None until it has ``MIN_STEPS`` steps."""
        return self._estimates

    @property
    def weak_cell(self) -> int | None:
        """The weak cell's number (from 1), None if none is or not known yet."""
        estimates = self.resistances
        if len(estimates) < 2 or None in estimates:
            return None
        known = [r for r in estimates if r is not None]
        highest = max(range(len(known)), key=known.__getitem__)
        others = statistics.median(known[:highest] + known[highest + 1 :])
        worst = known[highest]
        if worst >= WEAK_FACTOR * others and worst - others >= WEAK_MARGIN:
            return highest + 1
        return None

    @property
    def known(self) -> bool:
        """Whether every cell has an estimate."""
        return bool(self._steps) and None not in self.resistances

    def update(
        self,
        now: float,
        current: float,
        cell_voltages: Sequence[float],
        balancing: object = None,
    ) -> None:
        """Take the reading at ``now``; ``balancing`` is the balancer's state."""
        cells = tuple(cell_voltages)
        amps = finite(current)
        previous = self._previous
        if amps is None or not cells or any(finite(v) is None for v in cells):
            self._previous = None
            return
        self._previous = (now, amps, cells, balancing)
        if len(cells) != len(self._steps):
            self._steps = [[] for _ in cells]
            self._estimate()
            return
        if previous is None:
            return
        then, before, before_cells, before_balancing = previous
        delta_i = amps - before
        if (
            not 0 < now - then <= MAX_STEP_SECONDS
            or abs(delta_i) < MIN_STEP
            or balancing != before_balancing
            or len(before_cells) != len(cells)
        ):
            return
        step = [(v - b) / delta_i for v, b in zip(cells, before_cells, strict=True)]
        if sum(step) <= 0 or any(abs(r) > MAX_RESISTANCE for r in step):
            return
        for steps, value in zip(self._steps, step, strict=True):
            steps.append(value)
            del steps[:-WINDOW]
        self._estimate()

    def _estimate(self) -> None:
        """Work out the medians once per change, not per entity that reads them."""
        self._estimates = tuple(
            statistics.median(steps) if len(steps) >= MIN_STEPS else None
            for steps in self._steps
        )

    def to_dict(self) -> dict[str, Any]:
        """The steps of each cell (the last reading is not kept)."""
        return {"steps": [list(steps) for steps in self._steps]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Estimates that continue from ``to_dict`` output (else InvalidStateError)."""
        estimator = cls()
        stored = data.get("steps")
        if not isinstance(stored, list) or not all(
            isinstance(cell, list) and len(cell) <= WINDOW for cell in stored
        ):
            raise InvalidStateError(
                f"steps is not a list of lists: {reprlib.repr(stored)}"
            )
        counts = {len(cell) for cell in stored}
        if len(counts) > 1:
            raise InvalidStateError("steps differ in length between cells")
        for cell in stored:
            values = [finite(v) for v in cell]
            if any(v is None or abs(v) > MAX_RESISTANCE for v in values):
                raise InvalidStateError(
                    f"a step is not a resistance: {reprlib.repr(cell)}"
                )
            estimator._steps.append([v for v in values if v is not None])
        estimator._estimate()
        return estimator
