"""The coordinators of a bus: one per pack, and the bank they form.

A pack coordinator is a BMS coordinator whose driver state lives in its pack's
record of the bus entry. A pack that stops answering stays unavailable; after
:data:`STALE_AFTER` a repair offers to remove it (it may have left the bus).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from ..analytics.bank import Wiring
from ..bank.coordinator import BankCoordinator
from ..const import CONF_BUS_ADDRESS, CONF_PACKS, DOMAIN
from ..coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from ..devices import entry_device
from ..identity import PackIdentity
from ..protocol.client import BmsClient
from ..protocol.errors import BmsError
from ..protocol.snapshot import BatterySnapshot
from ..tracker import PackTracker
from .packs import stored_packs, with_packs

_LOGGER = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=1)


def pack_gone_issue_id(entry_id: str, address: int) -> str:
    """The repair issue of a pack that stopped answering."""
    return f"pack_gone_{entry_id}_{address}"


class BusPackCoordinator(LithiumBmsCoordinator):
    """One pack on a bus: reads through the shared port, keeps its own state."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: LithiumBmsConfigEntry,
        client: BmsClient,
        tracker: PackTracker,
        *,
        pack: PackIdentity,
        bus_address: int,
    ) -> None:
        """Set up the pack at ``bus_address``."""
        super().__init__(hass, entry, client, tracker, pack=pack)
        self.bus_address = bus_address
        self._failing_since: datetime | None = None

    async def async_start(self) -> None:
        """Restore, read the device information if it answers, then read once.

        Unlike a Bluetooth entry, one silent pack must not hold up the others:
        it starts unavailable and its entities come with its first reading.
        """
        await self.tracker.async_load()
        await self._async_read_device_info()
        await self.async_refresh()

    async def _async_read_device_info(self) -> None:
        try:
            self.device_info = await self.client.read_device_info()
        except BmsError as err:
            _LOGGER.debug("No device information from %s yet: %s", self.name, err)

    async def _async_update_data(self) -> BatterySnapshot:
        """Read one snapshot; note how long the pack has been silent."""
        try:
            snapshot = await super()._async_update_data()
        except UpdateFailed:
            self._note_silence()
            raise
        if self._failing_since is not None:
            self._failing_since = None
            ir.async_delete_issue(self.hass, DOMAIN, self._gone_issue_id)
        if self.device_info is None:
            await self._async_read_device_info()
            self._update_device()
        return snapshot

    def _note_silence(self) -> None:
        now = dt_util.utcnow()
        if self._failing_since is None:
            self._failing_since = now
        elif now - self._failing_since >= STALE_AFTER:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._gone_issue_id,
                is_fixable=True,
                severity=ir.IssueSeverity.WARNING,
                translation_key="pack_gone",
                translation_placeholders={
                    "name": self.pack.name,
                    "bus": self.config_entry.title,
                    "address": str(self.bus_address),
                },
                data={
                    "entry_id": self.config_entry.entry_id,
                    "address": self.bus_address,
                },
            )

    @property
    def _gone_issue_id(self) -> str:
        return pack_gone_issue_id(self.config_entry.entry_id, self.bus_address)

    def _update_device(self) -> None:
        """Fill in the model and versions read after the device was created."""
        info = self.device_info
        device = entry_device(self.hass, self.config_entry.entry_id, self.pack.key)
        if info is None or device is None:
            return
        dr.async_get(self.hass).async_update_device(
            device.id,
            manufacturer=info.manufacturer,
            model=info.model,
            hw_version=info.hw_version,
            sw_version=info.sw_version,
            serial_number=info.serial_number,
        )

    def _saved_driver_state(self) -> dict[str, Any]:
        """The pack's own record in the bus entry."""
        for pack in stored_packs(self.config_entry):
            if pack[CONF_BUS_ADDRESS] == self.bus_address:
                return pack
        return {CONF_BUS_ADDRESS: self.bus_address}

    def _save_driver_state(self, state: dict[str, Any]) -> None:
        others = [
            pack
            for pack in stored_packs(self.config_entry)
            if pack[CONF_BUS_ADDRESS] != self.bus_address
        ]
        data = with_packs(self.config_entry.data, [*others, state])
        if data[CONF_PACKS] != self.config_entry.data.get(CONF_PACKS):
            self.hass.config_entries.async_update_entry(self.config_entry, data=data)


class BusBankCoordinator(BankCoordinator):
    """The packs of one bus as one battery (parallel unless the options say)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: LithiumBmsConfigEntry,
        packs: Mapping[str, LithiumBmsCoordinator],
        wiring: Wiring,
        device: DeviceInfo,
    ) -> None:
        """Combine ``packs`` (by pack key; a master's reported packs too)."""
        super().__init__(hass, entry, list(packs), wiring, device)
        self._packs = packs

    def member(self, member_id: str) -> LithiumBmsCoordinator | None:
        """The pack's coordinator once it has read anything."""
        pack = self._packs.get(member_id)
        return pack if pack is not None and pack.has_reading else None

    def _followed(self, member_id: str) -> LithiumBmsCoordinator | None:
        """Every pack, also one that has not answered yet."""
        return self._packs.get(member_id)
