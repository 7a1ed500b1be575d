"""What a config entry is (one BMS or a bank of them), as its runtime data.

The platforms ask the entry's kind for their entities, so none of them
branches on what the entry is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity

type EntityAdder = Callable[[Iterable[Entity]], None]


class EntryKind(Protocol):
    """The runtime data of an entry: its entities and its diagnostics."""

    def entities(self, platform: Platform) -> Sequence[Entity]:
        """The entities of ``platform`` this entry has."""

    def diagnostics(self, hass: HomeAssistant) -> dict[str, Any]:
        """What helps debug this entry, with identifying data redacted."""

    def add_later(self, platform: Platform, add: EntityAdder) -> None:
        """Keep ``add`` for entities that appear after setup (if any can)."""


type KindConfigEntry = ConfigEntry[EntryKind]


def async_add_entry_entities(
    entry: KindConfigEntry, platform: Platform, add: EntityAdder
) -> None:
    """Add the entry's entities of ``platform``, and those that come later.

    A bus adds the entities of a pack that was silent at setup with its first
    reading; the other kinds have all of theirs at once.
    """
    kind = entry.runtime_data
    add(kind.entities(platform))
    kind.add_later(platform, add)
