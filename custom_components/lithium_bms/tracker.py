"""Energy counters and the independent SOC estimate of one pack, persisted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .analytics.chemistry import Chemistry, Thresholds
from .analytics.energy import EnergyCounter
from .analytics.imbalance import cell_imbalance
from .analytics.soc import SocEstimator
from .const import (
    CONF_CHEMISTRY,
    CONF_EMPTY_CELL_VOLTAGE,
    CONF_FULL_CELL_VOLTAGE,
    CONF_IMBALANCE_THRESHOLD,
    DOMAIN,
)
from .protocol.snapshot import BatterySnapshot

STORAGE_VERSION = 1
SAVE_DELAY = 30


def now() -> float:
    """Wall-clock time of a reading, in POSIX seconds."""
    return dt_util.utcnow().timestamp()


def thresholds_from_options(options: Mapping[str, Any]) -> Thresholds:
    """The chemistry's thresholds with the user's overrides (ValueError if absurd)."""
    chemistry = Chemistry(options.get(CONF_CHEMISTRY, Chemistry.LIFEPO4))
    imbalance_mv = options.get(CONF_IMBALANCE_THRESHOLD)
    return chemistry.thresholds.override(
        full_cell_voltage=options.get(CONF_FULL_CELL_VOLTAGE),
        empty_cell_voltage=options.get(CONF_EMPTY_CELL_VOLTAGE),
        imbalance_voltage=None if imbalance_mv is None else imbalance_mv / 1000,
    )


class PackTracker:
    """Integrates every snapshot into energy totals and an SOC estimate.

    The state is saved (debounced) in ``.storage`` and restored at start, so
    totals neither go down nor count twice across restarts.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        thresholds: Thresholds,
        update_interval: float,
    ) -> None:
        """Start empty; call :meth:`async_load` before the first update."""
        self.thresholds = thresholds
        self._interval = update_interval
        self._store = _store(hass, entry_id)
        self.energy = EnergyCounter(update_interval)
        self.soc = SocEstimator(thresholds, update_interval)
        self.imbalance: bool | None = None

    async def async_load(self) -> None:
        """Restore the saved state, if any."""
        data = await self._store.async_load()
        if not data:
            return
        if isinstance(energy := data.get("energy"), dict):
            self.energy = EnergyCounter.from_dict(energy, self._interval)
        if isinstance(soc := data.get("soc"), dict):
            self.soc = SocEstimator.from_dict(soc, self.thresholds, self._interval)

    def update(self, snapshot: BatterySnapshot) -> None:
        """Integrate one snapshot, read now."""
        moment = now()
        self.energy.update(moment, snapshot.voltage, snapshot.current)
        self.soc.update(moment, snapshot)
        self.imbalance = cell_imbalance(snapshot.cell_voltages, self.thresholds)
        self._store.async_delay_save(self._data, SAVE_DELAY)

    def _data(self) -> dict[str, Any]:
        return {"energy": self.energy.to_dict(), "soc": self.soc.to_dict()}

    async def async_save(self) -> None:
        """Save now (unload and shutdown)."""
        await self._store.async_save(self._data())


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")


async def async_remove_saved_state(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the saved totals and estimate of a removed entry."""
    await _store(hass, entry_id).async_remove()
