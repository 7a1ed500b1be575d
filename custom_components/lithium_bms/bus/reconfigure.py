"""Reconfiguring a bus: another port or baud rate, where its packs answer."""

from __future__ import annotations

import os
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant

from ..const import CONF_BAUDRATE, CONF_LISTEN, CONF_SERIAL_PORT
from ..protocol.wired import ScanResult, WiredProtocol
from .flow import async_scan, async_serial_ports, port_schema, port_taken, protocol_of
from .packs import pack_addresses, port_label


class BusReconfigureFlow(ConfigFlow):
    """The reconfigure step of a bus entry (part of the integration's flow)."""

    async def async_step_reconfigure_bus(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Another port or baud rate; the entry's packs must answer there.

        The port is the entry's unique id, so it moves with it; the packs and
        their entities stay (their ids derive from the entry id).
        """
        entry = self._get_reconfigure_entry()
        protocol = protocol_of(dict(entry.data))
        errors: dict[str, str] = {}
        if user_input is not None:
            url = user_input[CONF_SERIAL_PORT].strip()
            baudrate = int(user_input[CONF_BAUDRATE])
            if port_taken(self._async_current_entries(), url, but=entry.entry_id):
                return self.async_abort(reason="already_configured")
            found = await _async_find_packs(self.hass, entry, protocol, url, baudrate)
            if isinstance(found, ScanResult):
                data = {
                    **entry.data,
                    CONF_SERIAL_PORT: url,
                    CONF_BAUDRATE: baudrate,
                    CONF_LISTEN: found.listening,
                }
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=url,
                    title=f"{protocol.name} ({port_label(data)})",
                    data=data,
                )
            errors["base"] = found
        ports = await async_serial_ports(self.hass)
        return self.async_show_form(
            step_id="reconfigure_bus",
            data_schema=port_schema(protocol, ports, user_input or dict(entry.data)),
            errors=errors,
            description_placeholders={"name": entry.title, "protocol": protocol.name},
        )


async def _async_find_packs(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    protocol: WiredProtocol,
    url: str,
    baudrate: int,
) -> ScanResult | str:
    """Scan ``url`` for the entry's packs; what was found, or the error's key.

    On the port the loaded entry holds open, the entry is unloaded for the
    scan (the port is exclusive, and a scan on the entry's own shared bus
    would close it), and set up again if none of its packs was found.
    """
    own = entry.state is ConfigEntryState.LOADED and await _async_same_device(
        hass, entry.data[CONF_SERIAL_PORT], url
    )
    if own:
        await hass.config_entries.async_unload(entry.entry_id)
    result, error = await async_scan(
        protocol, url, baudrate, addresses=pack_addresses(entry)
    )
    if result is not None and result.packs:
        return result
    if own:
        await hass.config_entries.async_setup(entry.entry_id)
    if error is not None:
        return error
    # Bytes, but from no master and none of the packs: another protocol or speed.
    other = result is not None and result.heard > 0 and not result.listening
    return "unexpected_data" if other else "packs_not_found"


async def _async_same_device(hass: HomeAssistant, first: str, second: str) -> bool:
    """Whether two ports are one device (a ``/dev/serial/by-id`` link, say)."""
    if first == second:
        return True
    if not (first.startswith("/") and second.startswith("/")):
        return False
    real = await hass.async_add_executor_job(
        lambda: {os.path.realpath(path) for path in (first, second)}
    )
    return len(real) == 1
