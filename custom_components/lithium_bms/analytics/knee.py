"""The cell that reaches the knee first: the weak cell by behaviour.

A cell with less capacity, or more resistance, than its siblings leaves the flat
middle of the voltage curve first: it is the lowest cell when a discharging pack
nears empty and the highest when a charging pack nears full. Each time the pack
leaves the chemistry's middle window (see ``imbalance``) under current, the cell
that left first is recorded:

- on discharge (current below ``-REST_CURRENT``), the lowest cell once the
  lowest is at or below ``mid_window_low``;
- on charge (current above ``REST_CURRENT``), the highest cell once the highest
  is at or above ``mid_window_high``.

Each side is recorded once per excursion: it is armed again only after every
cell was back inside the window. A pack first seen outside the window records
nothing until it has been inside once, and a tie for first records nothing.

Of the last ``EVENTS`` records, a cell first at least ``MIN_TIMES`` times and in
more than half of them is named; with eight cells, chance alone makes a cell
first about one time in eight.
"""

from __future__ import annotations

import reprlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from .chemistry import Thresholds
from .imbalance import in_mid_window
from .integrator import InvalidStateError, finite, stored_bool

REST_CURRENT = 0.5
EVENTS = 20
MIN_TIMES = 3


class Knee(StrEnum):
    """Which end of the curve a cell reached first."""

    EMPTY = "empty"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class Leader:
    """The cell first at the knee: its number (from 1) and how often."""

    cell: int
    times: int
    out_of: int


class KneeCounter:
    """Counts which cell reaches the knee first, over cycles."""

    def __init__(self) -> None:
        """Start with nothing recorded and both sides disarmed."""
        self.events: list[tuple[Knee, int]] = []
        self._cells = 0
        self._armed = {Knee.EMPTY: False, Knee.FULL: False}

    @property
    def leader(self) -> Leader | None:
        """The cell first again and again, None while no cell stands out."""
        counts = Counter(cell for _, cell in self.events).most_common(2)
        if not counts:
            return None
        cell, times = counts[0]
        tied = len(counts) > 1 and counts[1][1] == times
        if tied or times < MIN_TIMES or times * 2 <= len(self.events):
            return None
        return Leader(cell, times, len(self.events))

    def update(
        self, current: float, cell_voltages: Sequence[float], thresholds: Thresholds
    ) -> None:
        """Take one reading."""
        cells = list(cell_voltages)
        amps = finite(current)
        if amps is None or not cells or any(finite(v) is None for v in cells):
            return
        if len(cells) != self._cells:
            self._cells = len(cells)
            self.events.clear()
            self._armed = dict.fromkeys(Knee, False)
        if in_mid_window(cells, thresholds):
            self._armed = dict.fromkeys(Knee, True)
            return
        if amps < -REST_CURRENT and min(cells) <= thresholds.mid_window_low:
            self._record(Knee.EMPTY, cells, min(cells))
        elif amps > REST_CURRENT and max(cells) >= thresholds.mid_window_high:
            self._record(Knee.FULL, cells, max(cells))

    def _record(self, knee: Knee, cells: list[float], first: float) -> None:
        if not self._armed[knee] or cells.count(first) > 1:
            return
        self._armed[knee] = False
        self.events.append((knee, cells.index(first) + 1))
        del self.events[:-EVENTS]

    def to_dict(self) -> dict[str, Any]:
        """The records, the cell count and which sides are armed."""
        return {
            "events": [[knee.value, cell] for knee, cell in self.events],
            "cells": self._cells,
            "armed_empty": self._armed[Knee.EMPTY],
            "armed_full": self._armed[Knee.FULL],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """A counter that continues from ``to_dict`` output (else InvalidStateError)."""
        counter = cls()
        cells = data.get("cells")
        if isinstance(cells, bool) or not isinstance(cells, int) or cells < 0:
            raise InvalidStateError(f"cells is not a count: {reprlib.repr(cells)}")
        counter._cells = cells
        events = data.get("events")
        if not isinstance(events, list) or len(events) > EVENTS:
            raise InvalidStateError(f"events is not a list: {reprlib.repr(events)}")
        for event in events:
            counter.events.append(_event(event, cells))
        counter._armed = {
            Knee.EMPTY: stored_bool(data, "armed_empty"),
            Knee.FULL: stored_bool(data, "armed_full"),
        }
        return counter


def _event(value: object, cells: int) -> tuple[Knee, int]:
    """One stored record: [knee, cell number within the cell count]."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and value[0] in set(Knee)
        and not isinstance(value[1], bool)
        and isinstance(value[1], int)
        and 1 <= value[1] <= cells
    ):
        return Knee(value[0]), value[1]
    raise InvalidStateError(f"not a knee record: {reprlib.repr(value)}")
