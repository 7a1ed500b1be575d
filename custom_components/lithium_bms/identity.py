"""Who a pack is in Home Assistant: its keys, its name and its device's place.

A Bluetooth BMS is its own entry, keyed by its address. A pack on a wired bus
is one of several in the bus's entry, keyed by the entry and its bus address,
and its device sits under the bus device.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers.device_registry import CONNECTION_BLUETOOTH, DeviceInfo

from .const import DOMAIN


@dataclass(frozen=True, slots=True)
class PackIdentity:
    """The keys and name of one pack.

    ``key`` prefixes its entities' unique ids and identifies its device;
    ``storage_id`` names its saved state and its repair issues; ``via`` is the
    identifier of the device it is reached through (the bus), if any.
    """

    key: str
    name: str
    storage_id: str
    bluetooth: bool = True
    via: str | None = None

    @classmethod
    def of_entry(cls, entry: ConfigEntry) -> PackIdentity:
        """A Bluetooth BMS entry's pack."""
        return cls(entry.unique_id or "", entry.title, entry.entry_id)

    def device_info(self) -> DeviceInfo:
        """The device registry keys of the pack (the model comes from the BMS)."""
        info = DeviceInfo(identifiers={(DOMAIN, self.key)}, name=self.name)
        if self.bluetooth:
            info["connections"] = {(CONNECTION_BLUETOOTH, self.key)}
        if self.via is not None:
            info["via_device"] = (DOMAIN, self.via)
        return info
