"""A WebSocket command that reports what every simulator holds (the truth)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import voluptuous as vol
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import (
    require_admin,
    websocket_command,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from bms_simulator.device import Fault, SimulatedBms
from bms_simulator.proxy import VirtualProxy

DATA_PROXY: HassKey[VirtualProxy] = HassKey("lithium_bms_sim")


def describe(device: SimulatedBms) -> dict[str, Any]:
    """A simulator's identity and its pack's values, JSON-ready."""
    pack = device.pack
    values = {
        key: sorted(value) if isinstance(value, set) else value
        for key, value in asdict(pack).items()
    }
    values.update(
        voltage=pack.voltage,
        remaining_capacity=pack.remaining_capacity,
        charge_fet=pack.charge_fet,
        discharge_fet=pack.discharge_fet,
    )
    return {
        "family": device.family,
        "address": device.address,
        "name": device.advertising.name,
        "connected": device.connected,
        "probes": device.probes,
        "pack": values,
    }


@websocket_command({vol.Required("type"): "lithium_bms_sim/devices"})
@require_admin
@callback
def ws_devices(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send the state of every simulated device."""
    proxy = hass.data[DATA_PROXY]
    connection.send_result(msg["id"], [describe(d) for d in proxy.devices.values()])


@websocket_command(
    {
        vol.Required("type"): "lithium_bms_sim/inject",
        vol.Required("address"): str,
        vol.Required("fault"): vol.In([fault.value for fault in Fault]),
        vol.Optional("count", default=1): vol.All(int, vol.Range(min=1)),
    }
)
@require_admin
@callback
def ws_inject(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Make one simulator misbehave on its next answers (or commands)."""
    device = hass.data[DATA_PROXY].devices.get(msg["address"].upper())
    if device is None:
        connection.send_error(msg["id"], "not_found", "No such simulated device")
        return
    device.inject(Fault(msg["fault"]), msg["count"])
    connection.send_result(msg["id"])


@callback
def async_register_commands(hass: HomeAssistant) -> None:
    """Register the commands."""
    async_register_command(hass, ws_devices)
    async_register_command(hass, ws_inject)
