"""Pack health: cell resistance, the cell first at the knee, heat and standby drain.

One object feeds every snapshot to the four insights (see their modules) and
saves them together. Nothing is learnt from a BMS without a current sensor.
"""

from __future__ import annotations

import reprlib
import statistics
from collections.abc import Mapping
from typing import Any, Self

from ..protocol.snapshot import BatterySnapshot, TemperatureKind
from .chemistry import Thresholds
from .integrator import InvalidStateError, finite
from .knee import KneeCounter
from .resistance import CellResistance
from .standby import StandbyDrain, charge_level
from .thermal import HeatModel


def reference_temperature(snapshot: BatterySnapshot) -> float | None:
    """Mean of the cell probes, else of the ambient ones, else None."""
    for kind in (TemperatureKind.CELL, TemperatureKind.AMBIENT):
        values = [
            value
            for probe in snapshot.temperatures
            if probe.kind == kind and (value := finite(probe.value)) is not None
        ]
        if values:
            return statistics.fmean(values)
    return None


class PackHealth:
    """The four health insights of one pack."""

    def __init__(self, thresholds: Thresholds, update_interval: float) -> None:
        """Judge the knee with the chemistry ``thresholds``."""
        self.thresholds = thresholds
        self.resistance = CellResistance()
        self.knee = KneeCounter()
        self.heat = HeatModel(update_interval)
        self.standby = StandbyDrain(update_interval)
        self.overheating_risk: bool | None = None
        self.projected_temperature: float | None = None

    def update(self, now: float, snapshot: BatterySnapshot) -> None:
        """Take the snapshot read at ``now`` (POSIX seconds)."""
        if not snapshot.measures_current:
            return
        current = snapshot.current
        cells = snapshot.cell_voltages
        self.resistance.update(now, current, cells, snapshot.balancing_cells)
        self.knee.update(current, cells, self.thresholds)
        reference = reference_temperature(snapshot)
        self.heat.update(now, current, snapshot.mosfet_temperature, reference)
        self.overheating_risk = self.heat.risk(current, reference)
        self.projected_temperature = self.heat.projected(current, reference)
        self.standby.update(now, current, charge_level(snapshot))

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to continue after a restart."""
        return {
            "resistance": self.resistance.to_dict(),
            "knee": self.knee.to_dict(),
            "heat": self.heat.to_dict(),
            "standby": self.standby.to_dict(),
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], thresholds: Thresholds, update_interval: float
    ) -> Self:
        """Health that continues from ``to_dict`` output (else InvalidStateError)."""
        health = cls(thresholds, update_interval)
        health.resistance = CellResistance.from_dict(_part(data, "resistance"))
        health.knee = KneeCounter.from_dict(_part(data, "knee"))
        health.heat = HeatModel.from_dict(_part(data, "heat"), update_interval)
        health.standby = StandbyDrain.from_dict(_part(data, "standby"), update_interval)
        return health


def _part(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    part = data.get(key)
    if not isinstance(part, Mapping):
        raise InvalidStateError(f"{key} is not a mapping: {reprlib.repr(part)}")
    return part
