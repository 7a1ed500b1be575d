"""Cell chemistries and the voltage and current thresholds the analytics use.

Every threshold is per cell and can be overridden (``Thresholds.override``).

- ``full_cell_voltage``: with every cell at or above it while a tapering charge
  current still flows, the pack is full. It sits a little below the usual
  absorption (constant-voltage) setting so a slightly unbalanced pack under an
  ordinary charger still reaches it on every cell.
- ``empty_cell_voltage``: with the lowest cell at or below it while discharging,
  the pack is empty. It sits at or just above common BMS under-voltage
  protection settings, so the estimator anchors before the BMS cuts the load.
- ``taper_fraction``: a charge current below ``taper_fraction`` * capacity (in
  A per Ah, 0.05 = C/20) counts as tapering, the usual end-of-charge criterion of
  constant-voltage chargers for all three chemistries.
- ``imbalance_voltage``: a spread between highest and lowest cell above it, in
  the middle of the voltage window, is an imbalance.
- ``mid_window_low`` / ``mid_window_high``: the middle of the voltage window.
  Outside it (lowest cell at or below low, or highest cell at or above high) the
  curve bends steeply, so a small difference in charge shows as a large spread
  that balancing is expected to handle and that says little about the cells.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Per-cell thresholds of one chemistry. Volts, and a C-rate fraction."""

    full_cell_voltage: float
    empty_cell_voltage: float
    taper_fraction: float
    imbalance_voltage: float
    mid_window_low: float
    mid_window_high: float

    def __post_init__(self) -> None:
        """Reject an inconsistent set."""
        if not (
            0
            < self.empty_cell_voltage
            < self.mid_window_low
            < self.mid_window_high
            <= self.full_cell_voltage
        ):
            raise ValueError(
                "thresholds must satisfy 0 < empty < window low < window high <= full"
            )
        if not 0 < self.taper_fraction < 1:
            raise ValueError("taper fraction must be between 0 and 1")
        if self.imbalance_voltage <= 0:
            raise ValueError("imbalance threshold must be positive")

    def override(
        self,
        *,
        full_cell_voltage: float | None = None,
        empty_cell_voltage: float | None = None,
        taper_fraction: float | None = None,
        imbalance_voltage: float | None = None,
        mid_window_low: float | None = None,
        mid_window_high: float | None = None,
    ) -> Thresholds:
        """A copy with the given thresholds replaced; None keeps the current one."""
        given = {
            "full_cell_voltage": full_cell_voltage,
            "empty_cell_voltage": empty_cell_voltage,
            "taper_fraction": taper_fraction,
            "imbalance_voltage": imbalance_voltage,
            "mid_window_low": mid_window_low,
            "mid_window_high": mid_window_high,
        }
        return replace(self, **{k: v for k, v in given.items() if v is not None})


class Chemistry(StrEnum):
    """Cell chemistry of a pack; LiFePO4 is the default."""

    LIFEPO4 = "lifepo4"
    NMC = "nmc"
    LTO = "lto"

    @property
    def thresholds(self) -> Thresholds:
        """The default thresholds of this chemistry."""
        return DEFAULTS[self]


DEFAULT_CHEMISTRY = Chemistry.LIFEPO4

LIFEPO4 = Thresholds(
    full_cell_voltage=3.45,
    empty_cell_voltage=2.90,
    taper_fraction=0.05,
    imbalance_voltage=0.050,
    mid_window_low=3.15,
    mid_window_high=3.40,
)
"""LiFePO4 (3.2 V nominal).

Absorption is usually 3.45-3.65 V (13.8-14.6 V for 4S); above 3.45 V with a
tapering current the cell is past its upper knee. BMS cut-offs are usually
2.5-2.8 V; below 2.9 V only a few percent remain. The plateau between the knees
(about 3.15-3.40 V) is so flat that cells in step sit within 10-20 mV of each
other, so 50 mV there means a real imbalance or a poor cell or connection.
"""

NMC = Thresholds(
    full_cell_voltage=4.15,
    empty_cell_voltage=3.00,
    taper_fraction=0.05,
    imbalance_voltage=0.100,
    mid_window_low=3.50,
    mid_window_high=4.05,
)
"""NMC / Li-ion (3.6-3.7 V nominal).

Charged to 4.1-4.2 V, so 4.15 V with a tapering current is full; BMS cut-offs are
usually 2.7-3.0 V. The curve slopes about 7-8 mV per percent in the middle, so a
100 mV spread is more than 10 % difference in charge between cells, while the
spread from internal resistance differences under load stays well below it.
"""

LTO = Thresholds(
    full_cell_voltage=2.65,
    empty_cell_voltage=1.80,
    taper_fraction=0.05,
    imbalance_voltage=0.080,
    mid_window_low=2.10,
    mid_window_high=2.55,
)
"""Lithium titanate (2.3-2.4 V nominal).

Charged to 2.7-2.85 V, so 2.65 V with a tapering current is full; BMS cut-offs are
usually 1.5-1.8 V. The middle of the curve slopes about 5-6 mV per percent, so
80 mV is again more than 10 % difference in charge between cells.
"""

DEFAULTS: dict[Chemistry, Thresholds] = {
    Chemistry.LIFEPO4: LIFEPO4,
    Chemistry.NMC: NMC,
    Chemistry.LTO: LTO,
}
