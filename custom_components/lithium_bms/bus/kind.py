"""The kind of entry that is a wired bus: its packs, their bank, the port."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import Entity

from ..bank.kind import BankData
from ..const import CONF_BUS_ADDRESS
from ..diagnostics import pack_diagnostics
from ..kind import EntityAdder
from ..late_entities import LateEntities
from ..pack import ENTITIES
from ..protocol.errors import BmsError
from ..protocol.serial.bus import SerialBus, forget_bus
from ..protocol.wired import WiredProtocol, scan_bus
from ..redaction import Redactor
from .coordinator import BusBankCoordinator, BusPackCoordinator
from .packs import stored_packs, with_packs

_LOGGER = logging.getLogger(__name__)


@dataclass
class BusData:
    """What a bus entry holds at runtime.

    A pack that has not answered yet has no entities; they are added with
    its first reading, through the adders the platforms registered.
    """

    entry: ConfigEntry[Any]
    protocol: WiredProtocol
    bus: SerialBus
    listening: bool
    packs: dict[int, BusPackCoordinator]
    bank: BusBankCoordinator | None
    _late: LateEntities = field(default_factory=LateEntities)

    def entities(self, platform: Platform) -> Sequence[Entity]:
        """The entities of the packs that answered, and of the bank."""
        found: list[Entity] = []
        for pack in self.packs.values():
            if pack.has_reading:
                found += ENTITIES[platform](pack)
        if self.bank is not None:
            found += BankData(self.bank).entities(platform)
        return found

    @callback
    def add_later(self, platform: Platform, add: EntityAdder) -> None:
        """Add a silent pack's entities of ``platform`` once it is read."""
        self._late.add_later(platform, add, self.packs)

    async def async_find_new_packs(self, hass: HomeAssistant) -> None:
        """Listen for packs the master polls that the bus does not have yet.

        Only on a bus a master owns: listening sends nothing, so it costs the
        line nothing. Packs found join the entry, which reloads with them.
        """
        known = set(self.packs)
        wanted = [a for a in self.protocol.addresses if a not in known]
        if not wanted:
            return
        try:
            result = await scan_bus(self.bus, self.protocol, wanted, listen=True)
        except BmsError as err:
            _LOGGER.debug("Listening for new packs failed: %s", err)
            return
        if not result.packs:
            return
        _LOGGER.info(
            "%s: new packs heard at %s",
            self.entry.title,
            ", ".join(str(pack.address) for pack in result.packs),
        )
        added = [{CONF_BUS_ADDRESS: pack.address} for pack in result.packs]
        hass.config_entries.async_update_entry(
            self.entry,
            data=with_packs(self.entry.data, [*stored_packs(self.entry), *added]),
        )
        hass.config_entries.async_schedule_reload(self.entry.entry_id)

    async def async_close(self) -> None:
        """Stop every pack and the bank; free the port for the next setup."""
        self._late.stop()
        if self.bank is not None:
            await self.bank.async_shutdown()
        for pack in self.packs.values():
            await pack.async_shutdown()
        await self.bus.close()
        forget_bus(self.bus)

    def diagnostics(self, hass: HomeAssistant) -> dict[str, Any]:
        """The bus and each pack's diagnostics, the port redacted."""
        port = self.bus.settings.url
        packs: dict[str, Any] = {}
        for address, pack in self.packs.items():
            found = pack_diagnostics(hass, pack)
            found.pop("entry", None)
            found.pop("advertisement", None)
            packs[str(address)] = found
        return Redactor([port], [port]).mapping(
            {
                "entry": self.entry.as_dict(),
                "protocol": self.protocol.key,
                "listening": self.listening,
                "bus": {
                    "open": self.bus.is_open,
                    "echo": self.bus.echo,
                    "baudrate": self.bus.settings.baudrate,
                    **dataclasses.asdict(self.bus.stats),
                },
                "packs": packs,
            }
        )


type BusConfigEntry = ConfigEntry[BusData]
