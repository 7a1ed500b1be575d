"""Charge and discharge energy counters, integrated from V * I.

Power P = V * I (positive while charging) is integrated with the trapezoidal rule
between successive updates. The charging side of the curve adds to
``charge_energy``, the discharging side to ``discharge_energy``; an interval in
which the sign changes is split at the zero crossing. Which intervals count, and
for how long, follows ``integrator``: none across a gap longer than max(600 s,
2 * update interval) or a wall clock that went backwards (the new sample starts
a new segment), and a wall clock that jumps ahead adds nothing while the
monotonic time is known. A repeat of the previous sample is ignored. The totals
never go down.

A sample beyond what the pack can do is skipped, and the next one starts a new
segment: a voltage that is negative or above ``MAX_VOLTAGE``, a current beyond
``current_limit`` of the pack's capacity (see ``integrator``), or an interval
that would move more energy than the full pack holds (capacity * voltage).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from .integrator import (
    Integrator,
    current_limit,
    finite,
    stored_number,
)

WATT_SECONDS_PER_KWH = 3_600_000.0
SECONDS_PER_HOUR = 3600.0
# Far above the packs these BMSes manage (JK's boards measure 0-100 V:
# JK-B2A25SRP specs, tsolar.top), and above high-voltage storage packs too.
MAX_VOLTAGE = 1000.0


class EnergyCounter:
    """Total energy into and out of a battery, in kWh."""

    def __init__(self, update_interval: float) -> None:
        """Count with the gap rule of ``update_interval`` (seconds)."""
        self._integrator = Integrator(update_interval)
        self._charge_ws = 0.0
        self._discharge_ws = 0.0

    @property
    def charge_energy(self) -> float:
        """Energy that went into the battery, in kWh."""
        return self._charge_ws / WATT_SECONDS_PER_KWH

    @property
    def discharge_energy(self) -> float:
        """Energy that came out of the battery, in kWh."""
        return self._discharge_ws / WATT_SECONDS_PER_KWH

    def update(
        self,
        now: float,
        voltage: float,
        current: float,
        capacity: float | None = None,
        monotonic: float | None = None,
    ) -> None:
        """Add the interval ending at ``now`` (POSIX seconds).

        ``capacity`` (Ah) is the pack's, when known; it sets the limits.
        ``monotonic`` is the process's monotonic time of the reading, when known
        (see ``integrator``).
        """
        volts, amps = finite(voltage), finite(current)
        if (
            volts is None
            or amps is None
            or not 0 <= volts <= MAX_VOLTAGE
            or abs(amps) > current_limit(capacity)
        ):
            self._integrator.interrupt()
            return
        known = finite(capacity)
        max_area = (
            known * SECONDS_PER_HOUR * volts
            if known is not None and known > 0
            else None
        )
        step = self._integrator.add(now, volts * amps, max_area, monotonic)
        if step is not None:
            self._charge_ws += step.positive
            self._discharge_ws += step.negative

    def to_dict(self) -> dict[str, float | None]:
        """Totals and the last sample, for restoring after a restart."""
        sample = self._integrator.to_dict()
        return {
            "charge_energy": self.charge_energy,
            "discharge_energy": self.discharge_energy,
            "last_time": sample["last_time"],
            "last_power": sample["last_value"],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], update_interval: float) -> Self:
        """A counter that continues from ``to_dict`` output.

        Every field must be there and valid (totals >= 0; the last sample both
        None or both numbers), else InvalidStateError. The next update is
        bridged to the stored sample only when it falls within the gap limit.
        """
        counter = cls(update_interval)
        counter._charge_ws = (
            stored_number(data, "charge_energy", minimum=0) * WATT_SECONDS_PER_KWH
        )
        counter._discharge_ws = (
            stored_number(data, "discharge_energy", minimum=0) * WATT_SECONDS_PER_KWH
        )
        counter._integrator.restore(data, "last_power")
        return counter
