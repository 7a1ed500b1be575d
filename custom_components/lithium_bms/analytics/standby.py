"""Standby drain at rest, and the days until a stored pack is empty.

At rest (|current| at most ``REST_CURRENT``, below what the current sensors
resolve) the only thing that still empties a pack is the BMS's own supply and
the cells' self-discharge, which the current sensor does not see; the BMS's
charge level does, where it counts it. The level is the remaining capacity as a
percentage of the full capacity when the BMS reports both (finer than an
integer SOC), else its SOC.

A rest period lasts while every reading is at rest, bridged (no gap longer than
``max_gap``, time moving forward) and the level does not rise by more than
``MAX_RISE`` points above where it started (a BMS that recalibrated). Its drain
is the least-squares slope of the level over time, in points per day, known
once the period has lasted ``MIN_REST`` seconds and the level fell by at least
``MIN_FALL`` points: shorter or flatter, and the level's resolution would
dominate. A drain, once known, is kept until a later rest period measures one.
The days until empty are the present level over that drain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from ..protocol.snapshot import BatterySnapshot
from .integrator import (
    InvalidStateError,
    finite,
    max_gap,
    stored_number,
    stored_optional,
)

REST_CURRENT = 0.1
MIN_REST = 12 * 3600.0
MIN_FALL = 2.0
MAX_RISE = 1.0
SECONDS_PER_DAY = 86400.0
SUMS = ("n", "t", "level", "tt", "t_level")
# Saved as "sum_<name>".
SUM_PREFIX = "sum_"


def charge_level(snapshot: BatterySnapshot) -> float | None:
    """The BMS's charge level in percent: remaining / full capacity, else SOC."""
    remaining = finite(snapshot.remaining_capacity)
    full = finite(snapshot.full_capacity)
    if remaining is not None and full is not None and full > 0 and remaining >= 0:
        return min(100.0, remaining / full * 100)
    soc = finite(snapshot.state_of_charge)
    return None if soc is None or not 0 <= soc <= 100 else soc


class StandbyDrain:
    """The level's fall per day at rest."""

    def __init__(self, update_interval: float) -> None:
        """Bridge readings up to ``max_gap(update_interval)`` seconds apart."""
        self.max_gap = max_gap(update_interval)
        self.drain: float | None = None
        self.level: float | None = None
        self._start: float | None = None
        self._start_level = 0.0
        self._lowest = 0.0
        self._last_time: float | None = None
        self._sums = dict.fromkeys(SUMS, 0.0)

    @property
    def days_until_empty(self) -> float | None:
        """Days until the level reaches 0 at the drain, None until it is known."""
        if self.drain is None or self.level is None:
            return None
        return self.level / self.drain

    def update(self, now: float, current: float, level: float | None) -> None:
        """Take the current and the charge level (percent) read at ``now``."""
        amps = finite(current)
        self.level = level if level is not None else self.level
        last, self._last_time = self._last_time, now
        if amps is None or abs(amps) > REST_CURRENT or level is None:
            self._start = None
            return
        start = self._start
        if (
            start is None
            or last is None
            or not 0 < now - last <= self.max_gap
            or level > self._start_level + MAX_RISE
        ):
            start = self._begin(now, level)
        t = (now - start) / SECONDS_PER_DAY
        sums = self._sums
        sums["n"] += 1
        sums["t"] += t
        sums["level"] += level
        sums["tt"] += t * t
        sums["t_level"] += t * level
        self._lowest = min(self._lowest, level)
        if now - start >= MIN_REST and self._start_level - self._lowest >= MIN_FALL:
            spread = sums["n"] * sums["tt"] - sums["t"] ** 2
            slope = (sums["n"] * sums["t_level"] - sums["t"] * sums["level"]) / spread
            if slope < 0:
                self.drain = -slope

    def _begin(self, now: float, level: float) -> float:
        """Start a rest period at ``now``; returns its start."""
        self._start = now
        self._start_level = self._lowest = level
        self._sums = dict.fromkeys(SUMS, 0.0)
        return now

    def to_dict(self) -> dict[str, Any]:
        """The drain, the level and the rest period under way."""
        return {
            "drain": self.drain,
            "level": self.level,
            "start": self._start,
            "start_level": self._start_level,
            "lowest": self._lowest,
            "last_time": self._last_time,
            **{SUM_PREFIX + key: value for key, value in self._sums.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], update_interval: float) -> Self:
        """A drain that continues from ``to_dict`` output (else InvalidStateError)."""
        standby = cls(update_interval)
        drain = stored_optional(data, "drain")
        if drain is not None and drain <= 0:
            raise InvalidStateError(f"drain is not positive: {drain!r}")
        standby.drain = drain
        standby.level = _percent(stored_optional(data, "level"), "level")
        standby._start = stored_optional(data, "start")
        standby._start_level = _percent(
            stored_number(data, "start_level"), "start_level"
        )
        standby._lowest = _percent(stored_number(data, "lowest"), "lowest")
        standby._last_time = stored_optional(data, "last_time")
        for key in SUMS:
            standby._sums[key] = stored_number(data, SUM_PREFIX + key)
        return standby


def _percent[T: float | None](value: T, key: str) -> T:
    if value is not None and not 0 <= value <= 100:
        raise InvalidStateError(f"{key} is not a percentage: {value!r}")
    return value
