"""Cell imbalance: a spread between cells that balancing has not absorbed.

The spread (highest minus lowest cell) is judged only while the pack is in the
middle of its voltage window: every cell strictly above the chemistry's
``mid_window_low`` and strictly below its ``mid_window_high``. Near empty or full
the voltage curve bends steeply: cells a few percent apart in charge show a
large spread there, which balancing is expected to handle, so it does not count.
"""

from __future__ import annotations

from collections.abc import Sequence

from .chemistry import Thresholds


def in_mid_window(cell_voltages: Sequence[float], thresholds: Thresholds) -> bool:
    """Whether every cell lies strictly inside the chemistry's middle window."""
    return bool(cell_voltages) and (
        thresholds.mid_window_low
        < min(cell_voltages)
        <= max(cell_voltages)
        < thresholds.mid_window_high
    )


def cell_imbalance(
    cell_voltages: Sequence[float], thresholds: Thresholds
) -> bool | None:
    """Whether the spread exceeds the threshold inside the middle window.

    False near empty or full; None without cell voltages.
    """
    if not cell_voltages:
        return None
    if not in_mid_window(cell_voltages, thresholds):
        return False
    spread = round(max(cell_voltages) - min(cell_voltages), 4)
    return spread > thresholds.imbalance_voltage
