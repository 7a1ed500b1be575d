"""What a config entry is (one BMS or a bank of them), as its runtime data.

The platforms ask the entry's kind for their entities, so none of them
branches on what the entry is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity


class EntryKind(Protocol):
    """The runtime data of an entry: its entities and its diagnostics."""

    def entities(self, platform: Platform) -> Sequence[Entity]:
        """The entities of ``platform`` this entry has."""

    def diagnostics(self, hass: HomeAssistant) -> dict[str, Any]:
        """What helps debug this entry, with identifying data redacted."""


type KindConfigEntry = ConfigEntry[EntryKind]
