"""Diagnostics: entry, snapshot, device info, raw frames, connection statistics."""

from __future__ import annotations

import dataclasses
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_ADDRESS, CONF_PASSWORD
from homeassistant.core import HomeAssistant

from .bank_coordinator import bank_of
from .coordinator import LithiumBmsConfigEntry

TO_REDACT = {CONF_ADDRESS, CONF_PASSWORD, "unique_id", "title", "serial_number"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LithiumBmsConfigEntry
) -> dict[str, Any]:
    """Everything useful to debug a BMS, with identifying data redacted."""
    if (bank := bank_of(entry)) is not None:
        return {
            "entry": async_redact_data(entry.as_dict(), TO_REDACT),
            "wiring": bank.wiring.value,
            "state": _jsonable(dataclasses.asdict(bank.data)),
        }
    coordinator = entry.runtime_data.coordinator
    client = coordinator.client
    service_info = bluetooth.async_last_service_info(
        hass, coordinator.address, connectable=True
    )
    snapshot = coordinator.data
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "family": client.driver.family,
        "variant": client.driver.variant,
        "device_info": async_redact_data(
            dataclasses.asdict(coordinator.device_info)
            if coordinator.device_info
            else {},
            TO_REDACT,
        ),
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
                    str(k): v.hex() for k, v in service_info.manufacturer_data.items()
                },
            }
            if service_info
            else None
        ),
    }


def _jsonable(value: Any) -> Any:
    """Sets and enums as JSON-friendly lists and strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
