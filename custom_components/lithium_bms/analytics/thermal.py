"""MOSFET heating learnt from the current: the overheating risk.

The MOSFETs' conduction loss grows with the square of the current (P = I² *
R_on), and their temperature settles at the surroundings plus that loss times
the thermal resistance to the air: T = T_ref + offset + k * I². The heating
coefficient ``k`` (K/A²) is learnt by least squares, with the current squared
filtered by a first-order lag of ``TAU`` seconds, the time a BMS's heat sink
takes to follow a change in load. ``T_ref`` is the mean of the cell (else
ambient) probes, so a warm day does not look like heating; without either it is
0 and the offset absorbs the surroundings. Old readings fade with a half-life
of ``HALF_LIFE`` seconds, so the coefficient follows dust in a heat sink or a
closed cabinet.

Before learning, the filter must settle: after a start, a gap or the clock
going backwards, readings count only after ``3 * TAU``. The coefficient is
known once ``MIN_SECONDS`` of settled readings were both under load (filtered
current above ``LOAD_CURRENT``) and near rest (below half of it), so the line
is drawn through two ends rather than guessed from one.

The risk is on when the temperature projected for the present current reaches
``MARGIN`` below the protection limit: the BMS's own over-temperature setting
where one is known, else ``DEFAULT_LIMIT``. It warns while the heat sink still
warms, before the BMS cuts the current.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Self

from .integrator import (
    InvalidStateError,
    finite,
    max_gap,
    stored_number,
    stored_optional,
)

TAU = 600.0
HALF_LIFE = 7 * 86400.0
LOAD_CURRENT = 10.0
MIN_SECONDS = 1800.0
DEFAULT_LIMIT = 80.0
MARGIN = 10.0
SUMS = ("weight", "x", "y", "xx", "xy", "loaded", "rested")


class HeatModel:
    """The MOSFET temperature's rise with the current, and the risk it implies."""

    def __init__(self, update_interval: float) -> None:
        """Learn across intervals up to ``max_gap(update_interval)`` seconds."""
        self.max_gap = max_gap(update_interval)
        self._sums = dict.fromkeys(SUMS, 0.0)
        self._heating: float | None = None
        self._last_time: float | None = None
        self._settled_at: float | None = None
        self._referenced: bool | None = None

    @property
    def coefficient(self) -> float | None:
        """Temperature rise per ampere squared (K/A²), None until learnt."""
        line = self._line()
        return None if line is None else line[1]

    def projected(self, current: float, reference: float | None) -> float | None:
        """Temperature the MOSFETs settle at for ``current``, None until learnt."""
        line = self._line()
        if line is None or (reference is None) == bool(self._referenced):
            return None
        return (reference or 0.0) + line[0] + line[1] * current**2

    def risk(
        self, current: float, reference: float | None, limit: float | None = None
    ) -> bool | None:
        """Whether ``current`` would heat the MOSFETs near ``limit`` (°C)."""
        projected = self.projected(current, reference)
        if projected is None:
            return None
        return projected >= (limit or DEFAULT_LIMIT) - MARGIN

    def _line(self) -> tuple[float, float] | None:
        sums = self._sums
        if min(sums["loaded"], sums["rested"]) < MIN_SECONDS:
            return None
        spread = sums["weight"] * sums["xx"] - sums["x"] ** 2
        if spread <= 0:
            return None
        slope = (sums["weight"] * sums["xy"] - sums["x"] * sums["y"]) / spread
        slope = max(0.0, slope)
        return (sums["y"] - slope * sums["x"]) / sums["weight"], slope

    def update(
        self, now: float, current: float, mosfet: float | None, reference: float | None
    ) -> None:
        """Take the current and the MOSFET and reference temperatures at ``now``."""
        amps, temperature = finite(current), finite(mosfet)
        if amps is None or temperature is None:
            self._restart(None)
            return
        referenced = reference is not None
        if self._referenced is not None and referenced != self._referenced:
            self._sums = dict.fromkeys(SUMS, 0.0)
        self._referenced = referenced
        last, heating = self._last_time, self._heating
        if last is None or heating is None or not 0 < now - last <= self.max_gap:
            self._restart(now)
            self._heating = amps**2
            return
        seconds = now - last
        self._last_time = now
        fade = math.exp(-seconds / TAU)
        self._heating = heating * fade + amps**2 * (1 - fade)
        if self._settled_at is None or now < self._settled_at:
            return
        self._learn(seconds, self._heating, temperature - (reference or 0.0))

    def _restart(self, now: float | None) -> None:
        """Forget the filter: its history is unknown."""
        self._last_time = now
        self._heating = None
        self._settled_at = None if now is None else now + 3 * TAU

    def _learn(self, seconds: float, x: float, y: float) -> None:
        sums = self._sums
        keep = 0.5 ** (seconds / HALF_LIFE)
        for key in SUMS:
            sums[key] *= keep
        sums["weight"] += seconds
        sums["x"] += seconds * x
        sums["y"] += seconds * y
        sums["xx"] += seconds * x * x
        sums["xy"] += seconds * x * y
        if x >= LOAD_CURRENT**2:
            sums["loaded"] += seconds
        elif x <= (LOAD_CURRENT / 2) ** 2:
            sums["rested"] += seconds

    def to_dict(self) -> dict[str, Any]:
        """The sums and the filter, to continue after a restart."""
        return {
            **self._sums,
            "heating": self._heating,
            "last_time": self._last_time,
            "settled_at": self._settled_at,
            "referenced": self._referenced,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], update_interval: float) -> Self:
        """A model that continues from ``to_dict`` output (else InvalidStateError)."""
        model = cls(update_interval)
        for key in SUMS:
            minimum = -math.inf if key in {"y", "xy"} else 0.0
            model._sums[key] = stored_number(data, key, minimum=minimum)
        model._heating = stored_optional(data, "heating", minimum=0)
        model._last_time = stored_optional(data, "last_time")
        model._settled_at = stored_optional(data, "settled_at")
        if (model._heating is None) != (model._last_time is None):
            raise InvalidStateError("heating and last_time must both be set")
        referenced = data.get("referenced", 0)
        if referenced is not None and not isinstance(referenced, bool):
            raise InvalidStateError(f"referenced is not a boolean: {referenced!r}")
        model._referenced = referenced
        return model
