"""Trapezoidal integration of a sampled signal, with a gap rule and limits.

Clocks: a sample has a wall-clock time (POSIX seconds; saved, so a restarted
integrator can bridge to its next sample) and, while the process runs, a
monotonic time (never saved). Where two samples have both, the interval counts
only when both clocks moved forward, and its length is the shorter of the two:
a wall clock that jumps ahead adds nothing, and a host that slept (monotonic
time stands still while the wall clock moves on) is not counted as awake.

Segments: consecutive samples are bridged (their interval is integrated) only
when time moved forward by at most ``max_gap`` on each clock. Anything else
starts a new segment whose first sample adds nothing: a gap, the wall clock
going backwards (a clock that ran ahead and was corrected), and a sample that
was refused. A repeat of the previous sample (same time, same value) is
ignored; the same time with another value starts a new segment.

What a pack can do (used by the energy counter and the SOC estimate): at most
``MAX_C_RATE`` times its capacity in A, never less than ``MIN_CURRENT_LIMIT``
(a capacity set too small in the BMS must not refuse real readings) and never
more than ``MAX_CURRENT``, the absolute limit that also applies when no capacity
is known. One step cannot move more than the pack's whole capacity. These
bounds sit far above what the BMSes carry: JK's boards are rated 150-200 A
continuous and 300-400 A for a few minutes (JK-BD6A24S15P and JK-B2A8S20P specs,
tsolar.top product page and the JK-B1A8S20P/B2A8S20P user manual on
manuals.online), relay versions protect at up to 1000 A (JK-B2A25SRP specs,
tsolar.top), and Daly's smart boards come in 40-500 A (Daly Smart Active
Balance BMS manual, manuals.plus). Packs with such a BMS discharge at about 1 C
or less, e-bike packs at a few C.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MIN_GAP = 600.0
MAX_C_RATE = 10.0
MIN_CURRENT_LIMIT = 50.0
MAX_CURRENT = 2000.0


class InvalidStateError(ValueError):
    """Saved state that does not validate."""


def current_limit(capacity: float | None) -> float:
    """Largest current, in A, a pack of ``capacity`` Ah (None: unknown) can carry."""
    known = finite(capacity)
    if known is None or known <= 0:
        return MAX_CURRENT
    return min(MAX_CURRENT, max(MIN_CURRENT_LIMIT, MAX_C_RATE * known))


def largest_capacity(*capacities: float | None) -> float | None:
    """The largest of the capacities (Ah) that are finite and positive."""
    valid = [c for c in map(finite, capacities) if c is not None and c > 0]
    return max(valid, default=None)


def max_gap(update_interval: float) -> float:
    """Longest interval, in seconds, that is still bridged between two samples."""
    return max(MIN_GAP, 2 * update_interval)


def finite(value: object) -> float | None:
    """``value`` as a float when it is a finite real number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class Step:
    """What one accepted sample contributed.

    ``positive`` and ``negative`` are the areas (value * seconds) on each side of
    zero over the interval ending at this sample, both >= 0. ``bridged`` is False
    for the first sample of a segment (start, or after a gap), whose areas are 0.
    """

    bridged: bool
    positive: float = 0.0
    negative: float = 0.0

    @property
    def net(self) -> float:
        """Signed area over the interval."""
        return self.positive - self.negative


def split_trapezoid(start: float, end: float, seconds: float) -> tuple[float, float]:
    """Areas above and below zero of a straight line from ``start`` to ``end``.

    When the line crosses zero, the trapezoid is split at the crossing into two
    triangles, so neither side absorbs the other's share.
    """
    if start >= 0 and end >= 0:
        return (start + end) / 2 * seconds, 0.0
    if start <= 0 and end <= 0:
        return 0.0, -(start + end) / 2 * seconds
    crossing = start / (start - end) * seconds
    first = abs(start) * crossing / 2
    second = abs(end) * (seconds - crossing) / 2
    return (first, second) if start > 0 else (second, first)


def stored_number(
    data: Mapping[str, Any], key: str, *, minimum: float = -math.inf
) -> float:
    """``data[key]`` as a finite number >= ``minimum`` (InvalidStateError if not)."""
    value = finite(data.get(key))
    if value is None or value < minimum:
        raise InvalidStateError(
            f"{key} is not a number >= {minimum}: {data.get(key)!r}"
        )
    return value


def stored_optional(
    data: Mapping[str, Any], key: str, *, minimum: float = -math.inf
) -> float | None:
    """Like :func:`stored_number`, but the key may hold None (it must be there)."""
    if key not in data:
        raise InvalidStateError(f"{key} is missing")
    if data[key] is None:
        return None
    return stored_number(data, key, minimum=minimum)


def stored_bool(data: Mapping[str, Any], key: str) -> bool:
    """``data[key]`` when it is a bool (InvalidStateError if not)."""
    value = data.get(key)
    if not isinstance(value, bool):
        raise InvalidStateError(f"{key} is not a boolean: {reprlib.repr(value)}")
    return value


class Integrator:
    """Integrates samples pairwise, in segments (see the module docstring)."""

    def __init__(self, update_interval: float) -> None:
        """Bridge intervals up to ``max_gap(update_interval)`` seconds."""
        self.max_gap = max_gap(update_interval)
        self.last_time: float | None = None
        self.last_value: float | None = None
        self._last_monotonic: float | None = None

    def add(
        self,
        now: float,
        value: float,
        max_area: float | None = None,
        monotonic: float | None = None,
    ) -> Step | None:
        """Take one sample at wall time ``now``; None when refused or a repeat.

        A sample that is not finite, or whose interval would add more than
        ``max_area`` (both sides of zero together), is refused, and the next
        sample starts a new segment.
        """
        if finite(now) is None or finite(value) is None:
            self.interrupt()
            return None
        previous_time, previous_value = self.last_time, self.last_value
        if now == previous_time and value == previous_value:
            return None
        previous_monotonic = self._last_monotonic
        self.last_time, self.last_value = now, value
        self._last_monotonic = finite(monotonic)
        if previous_time is None or previous_value is None:
            return Step(bridged=False)
        steps = [now - previous_time]
        if self._last_monotonic is not None and previous_monotonic is not None:
            steps.append(self._last_monotonic - previous_monotonic)
        seconds = min(steps)
        if seconds <= 0 or max(steps) > self.max_gap:
            return Step(bridged=False)
        positive, negative = split_trapezoid(previous_value, value, seconds)
        if max_area is not None and positive + negative > max_area:
            self.interrupt()
            return None
        return Step(bridged=True, positive=positive, negative=negative)

    def interrupt(self) -> None:
        """Forget the last sample: the next one starts a new segment."""
        self.last_time = self.last_value = self._last_monotonic = None

    def to_dict(self) -> dict[str, float | None]:
        """The last sample, so a restored integrator can bridge to the next."""
        return {"last_time": self.last_time, "last_value": self.last_value}

    def restore(self, data: Mapping[str, Any], value_key: str = "last_value") -> None:
        """Take back the last sample: ``data["last_time"]`` and ``data[value_key]``.

        Both are None (no sample) or finite numbers; anything else raises
        InvalidStateError. A time in the future is valid: the next sample, being
        earlier, starts a new segment.
        """
        last_time = stored_optional(data, "last_time")
        last_value = stored_optional(data, value_key)
        if (last_time is None) != (last_value is None):
            raise InvalidStateError(f"last_time and {value_key} must both be set")
        self.last_time, self.last_value = last_time, last_value
        self._last_monotonic = None
