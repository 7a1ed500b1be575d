"""Flags a BMS state of charge that has drifted away from the estimate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from .integrator import stored_bool, stored_optional

DRIFT_LIMIT = 10.0
DRIFT_DURATION = 24 * 3600.0


class DriftMonitor:
    """Says "calibration needed" after a lasting drift, until the next full charge.

    The flag is raised when the drift (BMS SOC minus estimate, in points) has been
    above ``limit`` in magnitude on every sample for ``duration`` seconds; a
    sample at or below the limit restarts the wait, and so does time going
    backwards (a wait that began in the future would never end). Samples without
    a drift change nothing. Once raised, the flag stays until ``full_charge``.
    """

    def __init__(
        self, limit: float = DRIFT_LIMIT, duration: float = DRIFT_DURATION
    ) -> None:
        """Watch for ``|drift| > limit`` lasting ``duration`` seconds."""
        self.limit = limit
        self.duration = duration
        self.calibration_needed = False
        self._above_since: float | None = None

    def update(self, now: float, drift: float | None) -> None:
        """Take the drift observed at ``now`` (POSIX seconds)."""
        if drift is None:
            return
        if abs(drift) <= self.limit:
            self._above_since = None
            return
        if self._above_since is None or now < self._above_since:
            self._above_since = now
        if now - self._above_since >= self.duration:
            self.calibration_needed = True

    def full_charge(self) -> None:
        """The pack was just seen full: clear the flag and restart the wait."""
        self.calibration_needed = False
        self._above_since = None

    def to_dict(self) -> dict[str, Any]:
        """The flag and since when the drift has been above the limit."""
        return {
            "calibration_needed": self.calibration_needed,
            "above_since": self._above_since,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """A monitor that continues from ``to_dict`` output.

        Both fields must be there and valid, else InvalidStateError.
        """
        monitor = cls()
        monitor.calibration_needed = stored_bool(data, "calibration_needed")
        monitor._above_since = stored_optional(data, "above_since")
        return monitor
