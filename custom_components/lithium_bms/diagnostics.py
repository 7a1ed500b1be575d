"""Diagnostics: entry, snapshot, device info, raw frames, connection statistics.

Everything passes one :class:`~.redaction.Redactor` that knows the entry's
secrets (its address, its members' addresses, the password, the serial
number), so they are masked wherever they appear.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ADDRESS, CONF_PASSWORD
from homeassistant.core import HomeAssistant

from .coordinator import LithiumBmsCoordinator
from .kind import KindConfigEntry
from .redaction import Redactor


def entry_addresses(entry: ConfigEntry[Any]) -> list[str]:
    """The Bluetooth addresses an entry is known by."""
    return [a for a in (entry.unique_id, entry.data.get(CONF_ADDRESS)) if a]


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: KindConfigEntry
) -> dict[str, Any]:
    """Everything useful to debug a BMS or a bank, with identifying data redacted."""
    return entry.runtime_data.diagnostics(hass)


def pack_diagnostics(
    hass: HomeAssistant, coordinator: LithiumBmsCoordinator
) -> dict[str, Any]:
    """A BMS entry's diagnostics, redacted."""
    entry = coordinator.config_entry
    info = coordinator.device_info
    redact = Redactor(
        entry_addresses(entry),
        [
            secret
            for secret in (
                entry.data.get(CONF_PASSWORD),
                entry.options.get(CONF_PASSWORD),
                info.serial_number if info else None,
            )
            if secret
        ],
    )
    client = coordinator.client
    service_info = bluetooth.async_last_service_info(
        hass, coordinator.address, connectable=True
    )
    snapshot = coordinator.data
    return redact.mapping(
        {
            "entry": entry.as_dict(),
            "family": client.driver.family,
            "variant": client.driver.variant,
            "device_info": dataclasses.asdict(info) if info else {},
            "last_update_success": coordinator.last_update_success,
            "snapshot": jsonable(dataclasses.asdict(snapshot)) if snapshot else None,
            "connection": {
                "connected": client.is_connected,
                "keep_connected": client.keep_connected,
                **dataclasses.asdict(client.stats),
            },
            "raw_frames": [
                {"direction": direction, "hex": data}
                for direction, data in client.frame_log
            ],
            "advertisement": (
                {
                    "rssi": service_info.rssi,
                    "source": "redacted",
                    "service_uuids": service_info.service_uuids,
                    "manufacturer_data": {
                        str(k): v.hex()
                        for k, v in service_info.manufacturer_data.items()
                    },
                }
                if service_info
                else None
            ),
        }
    )


def jsonable(value: Any) -> Any:
    """Sets and enums as JSON-friendly lists and strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
