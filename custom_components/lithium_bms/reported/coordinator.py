"""A pack its master reports: fed by the master's reading, never polled.

A Seplos V3 master reads the other packs of its bank over its own RS485
link; over Bluetooth the integration asks the master for all of them in one
update. Each such pack is a device under the master's device, keyed
``<master address>_pack<N>`` (``N`` the pack's number on the master's link),
so its entities' unique ids are ``<master address>_pack<N>_<key>``.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import UpdateFailed

from ..const import DOMAIN
from ..coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from ..identity import PackIdentity
from ..protocol.client import BmsClient
from ..protocol.snapshot import BatterySnapshot
from ..tracker import PackTracker


def reported_identity(entry: LithiumBmsConfigEntry, number: int) -> PackIdentity:
    """Pack ``number`` of the master of ``entry``, a device under the master's."""
    master = entry.unique_id or ""
    return PackIdentity(
        key=f"{master}_pack{number}",
        name=f"{entry.title} pack {number}",
        storage_id=f"{entry.entry_id}_pack{number}",
        bluetooth=False,
        via=master,
    )


class ReportedPackCoordinator(LithiumBmsCoordinator):
    """One pack of a master's bank: updated when the master is read."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: LithiumBmsConfigEntry,
        client: BmsClient,
        tracker: PackTracker,
        number: int,
    ) -> None:
        """Pack ``number``, read through the master's ``client``."""
        super().__init__(
            hass, entry, client, tracker, pack=reported_identity(entry, number)
        )
        self.number = number
        self._latest: BatterySnapshot | None = None
        # The master's update reads this pack; it has no interval of its own.
        self.update_interval = None

    async def _async_update_data(self) -> BatterySnapshot:
        """Only the master reads: a refresh shows what it reported last."""
        if self._latest is None:
            raise self._missing()
        return self._latest

    @callback
    def push(self, snapshot: BatterySnapshot | None) -> None:
        """The master's latest reading of this pack (None: not reported)."""
        self._latest = snapshot
        if snapshot is None:
            self.async_set_update_error(self._missing())
            return
        self.tracker.update(snapshot)
        self._report_calibration()
        self.async_set_updated_data(snapshot)

    def _missing(self) -> UpdateFailed:
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="pack_not_reported",
            translation_placeholders={"number": str(self.number)},
        )

    async def async_shutdown(self) -> None:
        """Stop; save the trackers. The master's client is the master's to close."""
        self._shut_down = True
        await super(LithiumBmsCoordinator, self).async_shutdown()
        await self.tracker.async_save()
