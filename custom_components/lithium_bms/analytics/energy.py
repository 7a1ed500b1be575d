"""Charge and discharge energy counters, integrated from V * I.

Power P = V * I (positive while charging) is integrated with the trapezoidal rule
between successive updates. The charging side of the curve adds to
``charge_energy``, the discharging side to ``discharge_energy``; an interval in
which the sign changes is split at the zero crossing. An interval longer than
max(600 s, 2 * update interval) is not bridged: the new sample starts a new
segment. A sample whose time is not after the previous one is ignored, so the
totals never go down.
"""

from __future__ import annotations

from typing import Any, Self

from .integrator import Integrator, finite

WATT_SECONDS_PER_KWH = 3_600_000.0


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

    def update(self, now: float, voltage: float, current: float) -> None:
        """Add the interval ending at ``now`` (POSIX seconds)."""
        step = self._integrator.add(now, voltage * current)
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
    def from_dict(cls, data: dict[str, Any], update_interval: float) -> Self:
        """A counter that continues from ``to_dict`` output.

        The next update is bridged to the stored sample only when it falls within
        the gap limit; a missing or invalid field restores as zero / no sample.
        """
        counter = cls(update_interval)
        counter._charge_ws = _total(data, "charge_energy") * WATT_SECONDS_PER_KWH
        counter._discharge_ws = _total(data, "discharge_energy") * WATT_SECONDS_PER_KWH
        counter._integrator.restore(
            {"last_time": data.get("last_time"), "last_value": data.get("last_power")}
        )
        return counter


def _total(data: dict[str, Any], key: str) -> float:
    value = finite(data.get(key))
    return value if value is not None and value > 0 else 0.0
