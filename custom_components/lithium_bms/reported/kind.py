"""The kind of entry that is a master pack: itself, its reported packs, the bank."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import Entity

from ..bank.kind import BankData
from ..bus.coordinator import BusBankCoordinator
from ..diagnostics import jsonable
from ..kind import EntityAdder
from ..late_entities import LateEntities
from ..pack import ENTITIES, LithiumBmsData
from .coordinator import ReportedPackCoordinator


@dataclass
class MasterData(LithiumBmsData):
    """A Bluetooth BMS entry, with the packs its master reports (if any).

    Without reported packs it is the plain BMS entry. A reported pack that
    has not been read yet has no entities; they come with its first reading.
    """

    packs: dict[int, ReportedPackCoordinator] = field(default_factory=dict)
    bank: BusBankCoordinator | None = None
    _late: LateEntities = field(default_factory=LateEntities)

    def entities(self, platform: Platform) -> Sequence[Entity]:
        """The master's entities, its read packs' and the bank's."""
        found = list(super().entities(platform))
        for pack in self.packs.values():
            if pack.has_reading:
                found += ENTITIES[platform](pack)
        # A bank of read-only packs has nothing to switch.
        switches = self.coordinator.client.driver.switches
        if self.bank is not None and (platform is not Platform.SWITCH or switches):
            found += BankData(self.bank).entities(platform)
        return found

    @callback
    def add_later(self, platform: Platform, add: EntityAdder) -> None:
        """Add a silent pack's entities of ``platform`` once it is read."""
        self._late.add_later(platform, add, self.packs)

    def diagnostics(self, hass: HomeAssistant) -> dict[str, Any]:
        """The master's diagnostics, and each reported pack's last reading."""
        found = super().diagnostics(hass)
        if self.packs:
            found["reported_packs"] = {
                str(number): jsonable(dataclasses.asdict(pack.data))
                if pack.has_reading
                else None
                for number, pack in self.packs.items()
            }
        return found

    async def async_close(self) -> None:
        """Stop the bank and the reported packs (the master stops itself)."""
        self._late.stop()
        if self.bank is not None:
            await self.bank.async_shutdown()
        for pack in self.packs.values():
            await pack.async_shutdown()
