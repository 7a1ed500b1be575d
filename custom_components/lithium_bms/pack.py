"""The kind of entry that is one BMS: its coordinator and its entities."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity

from .binary_sensor import pack_binary_sensors
from .coordinator import LithiumBmsCoordinator
from .diagnostics import pack_diagnostics
from .kind import EntityAdder
from .sensor import pack_sensors
from .switch import pack_switches

ENTITIES: dict[Platform, Callable[[LithiumBmsCoordinator], Sequence[Entity]]] = {
    Platform.BINARY_SENSOR: pack_binary_sensors,
    Platform.SENSOR: pack_sensors,
    Platform.SWITCH: pack_switches,
}


@dataclass
class LithiumBmsData:
    """What a BMS entry holds at runtime."""

    coordinator: LithiumBmsCoordinator

    def entities(self, platform: Platform) -> Sequence[Entity]:
        """The entities of ``platform`` the BMS reports."""
        return ENTITIES[platform](self.coordinator)

    def diagnostics(self, hass: HomeAssistant) -> dict[str, Any]:
        """The BMS entry's diagnostics, redacted."""
        return pack_diagnostics(hass, self.coordinator)

    def add_later(self, platform: Platform, add: EntityAdder) -> None:
        """Nothing comes later: every entity exists from the setup on."""
