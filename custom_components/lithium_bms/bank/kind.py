"""The kind of entry that is a bank: its coordinator, entities and diagnostics."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity

from ..diagnostics import entry_addresses, jsonable
from ..kind import EntityAdder
from ..redaction import Redactor
from .coordinator import BankCoordinator
from .entities import (
    BANK_PROBLEM,
    BANK_SWITCHES,
    BankProblemSensor,
    BankSwitch,
    bank_sensors,
)


@dataclass
class BankData:
    """What a bank entry holds at runtime."""

    coordinator: BankCoordinator

    def entities(self, platform: Platform) -> Sequence[Entity]:
        """The bank's entities of ``platform``."""
        bank = self.coordinator
        if platform is Platform.SENSOR:
            return bank_sensors(bank)
        if platform is Platform.BINARY_SENSOR:
            return [BankProblemSensor(bank, BANK_PROBLEM)]
        return [BankSwitch(bank, d) for d in BANK_SWITCHES]

    def diagnostics(self, hass: HomeAssistant) -> dict[str, Any]:
        """The bank's state, with its and its members' addresses redacted."""
        bank = self.coordinator
        entry = bank.config_entry
        addresses = entry_addresses(entry)
        for member_id in bank.member_ids:
            if member := hass.config_entries.async_get_entry(member_id):
                addresses += entry_addresses(member)
        return Redactor(addresses, ()).mapping(
            {
                "entry": entry.as_dict(),
                "wiring": bank.wiring.value,
                "state": jsonable(dataclasses.asdict(bank.data)),
            }
        )

    def add_later(self, platform: Platform, add: EntityAdder) -> None:
        """Nothing comes later: every entity exists from the setup on."""
