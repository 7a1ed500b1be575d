"""Entities of packs not read yet: added on every platform with their first reading."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, callback

from .coordinator import LithiumBmsCoordinator
from .kind import EntityAdder
from .pack import ENTITIES


class LateEntities:
    """Waits for each silent pack's first reading, then adds its entities.

    The packs are keyed by their place (a bus address, a reported pack's
    number); a platform registers its adder once, at setup.
    """

    def __init__(self) -> None:
        """Nothing waits yet."""
        self._adders: dict[Platform, EntityAdder] = {}
        self._waiting: dict[int, CALLBACK_TYPE] = {}

    @callback
    def add_later(
        self,
        platform: Platform,
        add: EntityAdder,
        packs: Mapping[int, LithiumBmsCoordinator],
    ) -> None:
        """Add a silent pack's entities of ``platform`` once it is read."""
        self._adders[platform] = add
        for key, pack in packs.items():
            if not pack.has_reading and key not in self._waiting:
                self._waiting[key] = pack.async_add_listener(
                    partial(self._read, key, pack)
                )

    @callback
    def _read(self, key: int, pack: LithiumBmsCoordinator) -> None:
        if not pack.has_reading:
            return
        self._waiting.pop(key)()
        for platform, add in self._adders.items():
            add(ENTITIES[platform](pack))

    def stop(self) -> None:
        """Stop waiting (the entry unloads)."""
        for stop in self._waiting.values():
            stop()
        self._waiting.clear()
