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

from .bank_coordinator import bank_of
from .const import CONF_MEMBERS
from .coordinator import LithiumBmsConfigEntry
from .redaction import Redactor


def _addresses(entry: ConfigEntry[Any]) -> list[str]:
    return [a for a in (entry.unique_id, entry.data.get(CONF_ADDRESS)) if a]


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LithiumBmsConfigEntry
) -> dict[str, Any]:
    """Everything useful to debug a BMS, with identifying data redacted."""
    if (bank := bank_of(entry)) is not None:
        addresses = _addresses(entry)
        for member_id in entry.data.get(CONF_MEMBERS, ()):
            if member := hass.config_entries.async_get_entry(member_id):
                addresses += _addresses(member)
        redact = Redactor(addresses, ())
        return redact.mapping(
            {
                "entry": entry.as_dict(),
                "wiring": bank.wiring.value,
                "state": _jsonable(dataclasses.asdict(bank.data)),
            }
        )
    coordinator = entry.runtime_data.coordinator
    info = coordinator.device_info
    redact = Redactor(
        _addresses(entry),
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
            "snapshot": _jsonable(dataclasses.asdict(snapshot)) if snapshot else None,
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


def _jsonable(value: Any) -> Any:
    """Sets and enums as JSON-friendly lists and strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
