"""Setting up a Bluetooth entry whose pack may be the master of a bank.

The packs the master reported once are stored with the entry (``packs``,
as a bus stores its packs) so their devices come back after a restart and a
pack the master stops reporting goes unavailable instead of vanishing. A
pack reported for the first time joins the entry, which reloads with it. Two
packs or more form a bank by themselves, wired as the options say.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from ..analytics.bank import Wiring
from ..bus.coordinator import BusBankCoordinator
from ..bus.packs import pack_addresses, stored_packs, with_packs
from ..const import (
    CONF_BUS_ADDRESS,
    CONF_WIRING,
    DOMAIN,
)
from ..coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from ..tracker import (
    PackTracker,
)
from .coordinator import ReportedPackCoordinator, reported_identity
from .kind import MasterData

_LOGGER = logging.getLogger(__name__)


async def async_setup_master(
    hass: HomeAssistant,
    entry: LithiumBmsConfigEntry,
    coordinator: LithiumBmsCoordinator,
) -> MasterData:
    """The entry's runtime data: the master, its stored packs, their bank."""
    data = MasterData(coordinator, _pack_coordinators(hass, entry, coordinator))
    for pack in data.packs.values():
        await pack.tracker.async_load()
    if data.packs:
        dr.async_get(hass).async_get_or_create(
            config_entry_id=entry.entry_id, **coordinator.pack.device_info()
        )
        wiring = Wiring(entry.options.get(CONF_WIRING, Wiring.PARALLEL.value))
        data.bank = BusBankCoordinator(
            hass,
            entry,
            {
                coordinator.pack.key: coordinator,
                **{pack.pack.key: pack for pack in data.packs.values()},
            },
            wiring,
            _bank_device(entry, coordinator, wiring),
        )
    coordinator.on_read = _pusher(hass, entry, data)
    coordinator.on_read(coordinator.last_update_success)
    if data.bank is not None:
        await data.bank.async_config_entry_first_refresh()
    entry.async_on_unload(data.async_close)
    return data


def _pusher(
    hass: HomeAssistant, entry: LithiumBmsConfigEntry, data: MasterData
) -> Callable[[bool], None]:
    """What the master's coordinator calls after each read."""

    @callback
    def _read(success: bool) -> None:
        reported = data.coordinator.client.reported_packs if success else {}
        for number, pack in data.packs.items():
            pack.push(reported.get(number))
        new = sorted(
            number
            for number, snapshot in reported.items()
            if snapshot is not None and number not in data.packs
        )
        if not new:
            return
        _LOGGER.info("%s reports new packs: %s", entry.title, ", ".join(map(str, new)))
        added = [{CONF_BUS_ADDRESS: number} for number in new]
        hass.config_entries.async_update_entry(
            entry, data=with_packs(entry.data, [*stored_packs(entry), *added])
        )
        hass.config_entries.async_schedule_reload(entry.entry_id)

    return _read


def _pack_coordinators(
    hass: HomeAssistant,
    entry: LithiumBmsConfigEntry,
    master: LithiumBmsCoordinator,
) -> dict[int, ReportedPackCoordinator]:
    """A coordinator for each pack the master reported before."""
    packs: dict[int, ReportedPackCoordinator] = {}
    for number in pack_addresses(entry):
        identity = reported_identity(entry, number)
        tracker = PackTracker.from_options(
            hass, identity.storage_id, entry.options, name=identity.name
        )
        packs[number] = ReportedPackCoordinator(
            hass, entry, master.client, tracker, number
        )
    return packs


def _bank_device(
    entry: LithiumBmsConfigEntry, master: LithiumBmsCoordinator, wiring: Wiring
) -> DeviceInfo:
    """The bank's device, under the master's."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"bank_{entry.entry_id}")},
        name=f"{entry.title} bank",
        manufacturer=master.client.driver.manufacturer,
        model=f"Battery bank ({wiring.value})",
        via_device=(DOMAIN, master.pack.key),
    )
