"""Energy counters, the independent SOC estimate and pack health, persisted.

The saved state has three sections: the energy totals, the SOC estimate (with
its learned capacity and drift monitor) and the pack health (see
``analytics.health``). Each is restored only when every one of its fields
validates: a field that fails says the section was damaged or edited, so its
other numbers cannot be trusted either. A section that fails is replaced by a
fresh one and the others are kept. Anything that is not a store of such
sections (a list, a string, a number, another version's data that does not
validate) loses the energy totals and the SOC estimate. A store saved before
pack health existed has no health section: health starts afresh without a
report, as nothing was lost. A loss is logged once, reported in a repair issue
that names what was lost, and the fresh state is saved at once, so it is never
reported again and never stops setup.
"""

from __future__ import annotations

import inspect
import logging
import reprlib
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Self

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .analytics.chemistry import Chemistry, Thresholds
from .analytics.energy import EnergyCounter
from .analytics.health import PackHealth
from .analytics.imbalance import cell_imbalance
from .analytics.integrator import InvalidStateError, largest_capacity
from .analytics.soc import SocEstimator
from .const import (
    CONF_CHEMISTRY,
    CONF_EMPTY_CELL_VOLTAGE,
    CONF_FULL_CELL_VOLTAGE,
    CONF_IMBALANCE_THRESHOLD,
    CONF_PACK_CAPACITY,
    CONF_UPDATE_INTERVAL,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
)
from .labels import async_entity_names
from .protocol.snapshot import BatterySnapshot

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
SAVE_DELAY = 30
ENERGY_LOST = "energy totals"
SOC_LOST = "SOC estimate"
HEALTH_LOST = "pack health"
# The sensors whose values each loss resets, named in the repair issue.
LOST_SENSORS = {
    ENERGY_LOST: ["charge_energy", "discharge_energy"],
    SOC_LOST: ["estimated_state_of_charge"],
    HEALTH_LOST: ["standby_days_until_empty", "first_cell_at_knee"],
}


def now() -> float:
    """Wall-clock time of a reading, in POSIX seconds."""
    return dt_util.utcnow().timestamp()


def monotonic() -> float:
    """Monotonic time of a reading, in seconds: immune to wall-clock jumps."""
    return time.monotonic()


def thresholds_from_options(options: Mapping[str, Any]) -> Thresholds:
    """The chemistry's thresholds with the user's overrides (ValueError if absurd)."""
    chemistry = Chemistry(options.get(CONF_CHEMISTRY, Chemistry.LIFEPO4))
    imbalance_mv = options.get(CONF_IMBALANCE_THRESHOLD)
    return chemistry.thresholds.override(
        full_cell_voltage=options.get(CONF_FULL_CELL_VOLTAGE),
        empty_cell_voltage=options.get(CONF_EMPTY_CELL_VOLTAGE),
        imbalance_voltage=None if imbalance_mv is None else imbalance_mv / 1000,
    )


def pack_capacity_from_options(options: Mapping[str, Any]) -> float | None:
    """The capacity the user gave each pack (Ah), if any."""
    capacity = options.get(CONF_PACK_CAPACITY)
    return float(capacity) if capacity else None


def restore_state(
    data: object, thresholds: Thresholds, update_interval: float
) -> tuple[EnergyCounter, SocEstimator, dict[str, str]]:
    """The counters saved in ``data``, and what was lost (name: why).

    A section that does not validate is replaced by a fresh one.
    """
    sections: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    lost: dict[str, str] = {}
    try:
        energy = EnergyCounter.from_dict(_section(sections, "energy"), update_interval)
    except InvalidStateError as err:
        energy = EnergyCounter(update_interval)
        lost[ENERGY_LOST] = str(err)
    try:
        soc = SocEstimator.from_dict(
            _section(sections, "soc"), thresholds, update_interval
        )
    except InvalidStateError as err:
        soc = SocEstimator(thresholds, update_interval)
        lost[SOC_LOST] = str(err)
    return energy, soc, lost


def restore_health(
    data: object, thresholds: Thresholds, update_interval: float
) -> tuple[PackHealth, dict[str, str]]:
    """The pack health saved in ``data``, and what was lost (name: why).

    No health section (a store from before it existed) is no loss.
    """
    sections: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    fresh = PackHealth(thresholds, update_interval)
    if "health" not in sections:
        return fresh, {}
    try:
        health = PackHealth.from_dict(
            _section(sections, "health"), thresholds, update_interval
        )
    except InvalidStateError as err:
        return fresh, {HEALTH_LOST: str(err)}
    return health, {}


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    section = data.get(key)
    if not isinstance(section, Mapping):
        raise InvalidStateError(f"{key} is not a mapping: {reprlib.repr(section)}")
    return section


class PackTracker:
    """Integrates every snapshot into energy totals, an SOC estimate and health.

    The state is saved (debounced) in ``.storage`` and restored at start, so
    totals neither go down nor count twice across restarts.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        thresholds: Thresholds,
        update_interval: float,
        *,
        name: str | None = None,
        pack_capacity: float | None = None,
    ) -> None:
        """Start empty; call :meth:`async_load` before the first update.

        ``entry_id`` names the saved state: an entry's id, or a bus pack's
        storage id (then ``name`` is the pack's name in messages).
        ``pack_capacity`` (Ah, the user's) stands in for the capacity of a BMS
        that reports none.
        """
        self.thresholds = thresholds
        self.pack_capacity = pack_capacity
        self._hass = hass
        self._entry_id = entry_id
        self._name = name
        self._interval = update_interval
        self._store = _store(hass, entry_id)
        self.energy = EnergyCounter(update_interval)
        self.soc = SocEstimator(thresholds, update_interval)
        self.health = PackHealth(thresholds, update_interval)
        self.imbalance: bool | None = None
        self._listeners: list[Callable[[], None]] = []

    @classmethod
    def from_options(
        cls,
        hass: HomeAssistant,
        entry_id: str,
        options: Mapping[str, Any],
        *,
        name: str | None = None,
    ) -> Self:
        """A tracker with the thresholds, interval and capacity ``options`` set."""
        return cls(
            hass,
            entry_id,
            thresholds_from_options(options),
            options.get(CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL),
            name=name,
            pack_capacity=pack_capacity_from_options(options),
        )

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``update`` after each integrated snapshot; returns the remover."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    async def async_load(self) -> None:
        """Restore the saved state, if any; replace what does not validate."""
        try:
            data = await self._store.async_load()
        except (KeyError, TypeError, ValueError) as err:
            # JSON, but not in the shape of a store file (HA itself handles a
            # file that is not JSON).
            lost = dict.fromkeys((ENERGY_LOST, SOC_LOST), f"not a store file: {err!r}")
        else:
            if data is None:
                return
            self.energy, self.soc, lost = restore_state(
                data, self.thresholds, self._interval
            )
            self.health, health_lost = restore_health(
                data, self.thresholds, self._interval
            )
            lost |= health_lost
        if lost:
            await self._report_loss(lost)

    async def _report_loss(self, lost: dict[str, str]) -> None:
        """Log and report what was lost, and save the fresh state at once."""
        entry = self._hass.config_entries.async_get_entry(self._entry_id)
        name = self._name or (entry.title if entry else self._entry_id)
        _LOGGER.warning(
            "Saved state of %s does not validate, starting afresh: %s",
            name,
            "; ".join(f"{what} lost ({why})" for what, why in lost.items()),
        )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            _issue_id(self._entry_id),
            is_fixable=False,
            is_persistent=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key="storage_reset",
            translation_placeholders={
                "name": name,
                "lost": await async_entity_names(
                    self._hass,
                    "sensor",
                    [k for what in lost for k in LOST_SENSORS[what]],
                ),
            },
        )
        await self._store.async_save(self._data())

    def update(self, snapshot: BatterySnapshot) -> None:
        """Integrate one snapshot, read now."""
        moment, steady = now(), monotonic()
        capacity = largest_capacity(snapshot.full_capacity, snapshot.design_capacity)
        if capacity is None and self.pack_capacity:
            capacity = self.pack_capacity
            snapshot = replace(snapshot, design_capacity=capacity)
        self.energy.update(
            moment, snapshot.voltage, snapshot.current, capacity, monotonic=steady
        )
        self.soc.update(moment, snapshot, monotonic=steady)
        self.health.update(moment, snapshot)
        self.imbalance = cell_imbalance(snapshot.cell_voltages, self.thresholds)
        self._store.async_delay_save(self._data, SAVE_DELAY)
        for update in list(self._listeners):
            update()

    def _data(self) -> dict[str, Any]:
        return {
            "energy": self.energy.to_dict(),
            "soc": self.soc.to_dict(),
            "health": self.health.to_dict(),
        }

    async def async_save(self) -> None:
        """Save now (unload and shutdown)."""
        await self._store.async_save(self._data())


class _TrackerStore(Store[dict[str, Any]]):
    """A store whose data saved by another version is validated, not migrated."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: Any
    ) -> Any:
        """Hand the data over as it is: :func:`restore_state` validates it."""
        return old_data


# From Home Assistant 2026.10 a store refuses a newer major version (after a
# downgrade) unless it is told how far it may read; this one validates data of
# every version instead.
_READ_EVERY_VERSION: dict[str, Any] = (
    {"max_readable_version": sys.maxsize}
    if "max_readable_version" in inspect.signature(Store.__init__).parameters
    else {}
)


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return _TrackerStore(
        hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", **_READ_EVERY_VERSION
    )


def _issue_id(entry_id: str) -> str:
    return f"storage_reset_{entry_id}"


def standby_issue_id(storage_id: str) -> str:
    """The id of the standby drain repair of a pack's saved state."""
    return f"standby_drain_{storage_id}"


async def async_remove_saved_state(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the saved state of a removed entry, and its issues."""
    ir.async_delete_issue(hass, DOMAIN, _issue_id(entry_id))
    ir.async_delete_issue(hass, DOMAIN, standby_issue_id(entry_id))
    await _store(hass, entry_id).async_remove()
