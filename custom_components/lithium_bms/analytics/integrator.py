"""Trapezoidal integration of a sampled signal, with a gap rule."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MIN_GAP = 600.0


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


class Integrator:
    """Integrates samples pairwise; a gap longer than ``max_gap`` is not bridged.

    A sample that is not finite, or whose time is not after the previous one, is
    ignored.
    """

    def __init__(self, update_interval: float) -> None:
        """Bridge intervals up to ``max_gap(update_interval)`` seconds."""
        self.max_gap = max_gap(update_interval)
        self.last_time: float | None = None
        self.last_value: float | None = None

    def add(self, now: float, value: float) -> Step | None:
        """Take one sample; None when it is ignored."""
        if finite(now) is None or finite(value) is None:
            return None
        if self.last_time is not None and now <= self.last_time:
            return None
        previous_time, previous_value = self.last_time, self.last_value
        self.last_time, self.last_value = now, value
        if previous_time is None or previous_value is None:
            return Step(bridged=False)
        seconds = now - previous_time
        if seconds > self.max_gap:
            return Step(bridged=False)
        positive, negative = split_trapezoid(previous_value, value, seconds)
        return Step(bridged=True, positive=positive, negative=negative)

    def to_dict(self) -> dict[str, float | None]:
        """The last sample, so a restored integrator can bridge to the next."""
        return {"last_time": self.last_time, "last_value": self.last_value}

    def restore(self, data: dict[str, Any]) -> None:
        """Take back the last sample from ``to_dict`` output (bad values dropped)."""
        last_time = finite(data.get("last_time"))
        last_value = finite(data.get("last_value"))
        if last_time is None or last_value is None:
            last_time = last_value = None
        self.last_time, self.last_value = last_time, last_value
