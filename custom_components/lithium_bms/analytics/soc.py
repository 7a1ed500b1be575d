"""State of charge estimated by coulomb counting, re-anchored at full and empty.

The measured current is integrated (trapezoidal rule, positive while charging)
into the charge held, in Ah; no efficiency loss is applied, lithium cells return
nearly every coulomb. The charge held is kept within 0..capacity, so charge
pushed into a pack the count already sees as full is not banked. The estimate is
re-anchored:

- to 100 % when the pack is full: every cell at or above the chemistry's full
  voltage while a charge current flows that has tapered below
  ``taper_fraction`` * capacity;
- to 0 % when the pack is empty: the lowest cell at or below the chemistry's
  empty voltage while discharging.

Before the first anchor, and again after an interval that is not bridged (longer
than max(600 s, 2 * update interval), e.g. a long downtime), the count restarts
from the BMS's SOC (when it reports one): the charge that moved while nobody
watched is unknown.

A snapshot beyond what the pack can do is refused as a whole (its current, SOC
and capacity are not used), and the next one starts a new segment: a current
that is not finite or beyond ``current_limit`` of the capacity (the snapshot's
largest, else the one in use), or an interval that would move more than that
capacity. A new segment also starts when time goes backwards: how much time
really passed is unknown, so the count restarts from the BMS's SOC, as after a
gap. A repeat of the previous reading (same time, same current) is ignored.

Capacity is the BMS's full capacity until one is learned. After an uninterrupted
traverse from one anchor to the other (empty to full, or full to empty, with
every interval bridged), the net Ah counted on the way becomes the learned
capacity, provided it lies within 0.5-1.5 * the BMS's full capacity: a count
outside that range comes from missed samples or a false anchor rather than an
aged or mis-set pack, and is discarded. Without a BMS capacity nothing is
learned, as there is nothing to check the count against.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Self

from ..protocol.snapshot import BatterySnapshot
from .chemistry import Thresholds
from .drift import DriftMonitor
from .integrator import (
    Integrator,
    InvalidStateError,
    Step,
    current_limit,
    finite,
    largest_capacity,
    stored_bool,
    stored_number,
    stored_optional,
)

SECONDS_PER_HOUR = 3600.0
LEARN_MIN = 0.5
LEARN_MAX = 1.5


class Anchor(StrEnum):
    """The last point at which the estimate was set from the cells."""

    FULL = "full"
    EMPTY = "empty"


class SocEstimator:
    """Coulomb-counting SOC of one pack, with drift against the BMS's SOC."""

    def __init__(self, thresholds: Thresholds, update_interval: float) -> None:
        """Estimate with the chemistry ``thresholds`` and the gap rule."""
        self.thresholds = thresholds
        self.drift_monitor = DriftMonitor()
        self._integrator = Integrator(update_interval)
        self._charge: float | None = None
        self._anchor: Anchor | None = None
        self._since_anchor = 0.0
        self._traverse_valid = False
        self._learned: float | None = None
        self._bms_capacity: float | None = None
        self._bms_soc: float | None = None

    @property
    def capacity(self) -> float | None:
        """Capacity in use, in Ah: the learned one, else the BMS's."""
        return self._learned if self._learned is not None else self._bms_capacity

    @property
    def learned_capacity(self) -> float | None:
        """Capacity learned from a full traverse, in Ah."""
        return self._learned

    @property
    def anchor(self) -> Anchor | None:
        """The last anchor since the count last (re)started."""
        return self._anchor

    @property
    def state_of_charge(self) -> float | None:
        """Estimated SOC in percent, 0..100."""
        capacity = self.capacity
        if self._charge is None or not capacity:
            return None
        return min(100.0, max(0.0, self._charge / capacity * 100))

    @property
    def drift(self) -> float | None:
        """BMS SOC minus the estimate, in percentage points."""
        estimate = self.state_of_charge
        if self._bms_soc is None or estimate is None:
            return None
        return self._bms_soc - estimate

    @property
    def calibration_needed(self) -> bool:
        """Whether the BMS SOC has drifted for a day without a full charge."""
        return self.drift_monitor.calibration_needed

    def update(
        self, now: float, snapshot: BatterySnapshot, monotonic: float | None = None
    ) -> None:
        """Take the snapshot read at ``now`` (POSIX seconds).

        ``monotonic`` is the process's monotonic time of the reading, when known
        (see ``integrator``).
        """
        step = self._accept(now, snapshot, monotonic)
        if step is None:
            return
        bms_capacity = finite(snapshot.full_capacity) or finite(
            snapshot.design_capacity
        )
        if bms_capacity is not None and bms_capacity > 0:
            self._bms_capacity = bms_capacity
        self._bms_soc = finite(snapshot.state_of_charge)
        capacity = self.capacity
        if not step.bridged:
            self._anchor = None
            self._traverse_valid = False
            self._seed(capacity)
        elif self._charge is None:
            self._seed(capacity)
        else:
            counted = step.net / SECONDS_PER_HOUR
            self._charge += counted
            self._since_anchor += counted
        if self._is_full(snapshot):
            self._anchor_at(Anchor.FULL)
            self.drift_monitor.full_charge()
        elif self._is_empty(snapshot):
            self._anchor_at(Anchor.EMPTY)
        capacity = self.capacity
        if self._charge is not None and capacity is not None:
            self._charge = min(capacity, max(0.0, self._charge))
        self.drift_monitor.update(now, self.drift)

    def _accept(
        self, now: float, snapshot: BatterySnapshot, monotonic: float | None
    ) -> Step | None:
        """Integrate the current, unless it is beyond what the pack can do."""
        capacity = (
            largest_capacity(snapshot.full_capacity, snapshot.design_capacity)
            or self.capacity
        )
        current = finite(snapshot.current)
        if current is None or abs(current) > current_limit(capacity):
            self._integrator.interrupt()
            return None
        max_area = None if capacity is None else capacity * SECONDS_PER_HOUR
        return self._integrator.add(now, current, max_area, monotonic)

    def _seed(self, capacity: float | None) -> None:
        """Restart the count from the BMS's SOC, when there is one."""
        if self._bms_soc is not None and capacity is not None:
            self._charge = min(100.0, max(0.0, self._bms_soc)) / 100 * capacity

    def _is_full(self, snapshot: BatterySnapshot) -> bool:
        capacity = self.capacity
        cells = snapshot.cell_voltages
        return (
            capacity is not None
            and bool(cells)
            and min(cells) >= self.thresholds.full_cell_voltage
            and 0 < snapshot.current < self.thresholds.taper_fraction * capacity
        )

    def _is_empty(self, snapshot: BatterySnapshot) -> bool:
        cells = snapshot.cell_voltages
        return (
            bool(cells)
            and min(cells) <= self.thresholds.empty_cell_voltage
            and snapshot.current < 0
        )

    def _anchor_at(self, anchor: Anchor) -> None:
        """Set the charge from the anchor, learning capacity on a full traverse."""
        if self._traverse_valid and self._anchor not in {None, anchor}:
            self._learn(abs(self._since_anchor))
        self._anchor = anchor
        self._since_anchor = 0.0
        self._traverse_valid = True
        self._charge = self.capacity if anchor is Anchor.FULL else 0.0

    def _learn(self, counted: float) -> None:
        reference = self._bms_capacity
        if reference is not None and (
            LEARN_MIN * reference <= counted <= LEARN_MAX * reference
        ):
            self._learned = counted

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to continue after a restart."""
        sample = self._integrator.to_dict()
        return {
            "charge": self._charge,
            "anchor": self._anchor,
            "since_anchor": self._since_anchor,
            "traverse_valid": self._traverse_valid,
            "learned_capacity": self._learned,
            "bms_capacity": self._bms_capacity,
            "bms_soc": self._bms_soc,
            "last_time": sample["last_time"],
            "last_current": sample["last_value"],
            "drift_monitor": self.drift_monitor.to_dict(),
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], thresholds: Thresholds, update_interval: float
    ) -> Self:
        """An estimator that continues from ``to_dict`` output.

        Every field must be there and valid, else InvalidStateError. The next
        update is bridged to the stored sample only within the gap limit;
        otherwise the count restarts from the BMS's SOC.
        """
        estimator = cls(thresholds, update_interval)
        estimator._charge = stored_optional(data, "charge", minimum=0)
        estimator._anchor = _anchor(data.get("anchor", ""))
        estimator._since_anchor = stored_number(data, "since_anchor")
        estimator._traverse_valid = stored_bool(data, "traverse_valid")
        estimator._learned = _positive(data, "learned_capacity")
        estimator._bms_capacity = _positive(data, "bms_capacity")
        estimator._bms_soc = stored_optional(data, "bms_soc")
        estimator._integrator.restore(data, "last_current")
        monitor = data.get("drift_monitor")
        if not isinstance(monitor, Mapping):
            raise InvalidStateError(
                f"drift_monitor is not a mapping: {reprlib.repr(monitor)}"
            )
        estimator.drift_monitor = DriftMonitor.from_dict(monitor)
        return estimator


def _anchor(value: object) -> Anchor | None:
    """A stored anchor: None, or one of the Anchor values."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in set(Anchor):
        raise InvalidStateError(
            f"anchor is not one of {list(Anchor)}: {reprlib.repr(value)}"
        )
    return Anchor(value)


def _positive(data: Mapping[str, Any], key: str) -> float | None:
    value = stored_optional(data, key)
    if value is not None and value <= 0:
        raise InvalidStateError(f"{key} is not positive: {value!r}")
    return value
