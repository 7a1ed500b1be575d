"""The config-flow parts of a wired bus: the forms, the port list and the scan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector

from ..const import (
    CONF_BAUDRATE,
    CONF_BUS_ADDRESS,
    CONF_KIND,
    CONF_LISTEN,
    CONF_PACKS,
    CONF_PROTOCOL,
    CONF_SERIAL_PORT,
    KIND_BUS,
)
from ..protocol.errors import BmsError, BusOwnedError, SerialPortError
from ..protocol.registry import WIRED_PROTOCOLS, wired_protocol
from ..protocol.serial.bus import SerialBus, forget_bus, shared_bus
from ..protocol.wired import FoundPack, ScanResult, WiredProtocol, scan_bus
from .errors import port_error_key
from .packs import with_packs

_LOGGER = logging.getLogger(__name__)

BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
# A scan asks at most 16 addresses with a short timeout, or listens one cycle.
SCAN_TIMEOUT = 60.0


def protocol_schema() -> vol.Schema:
    """The first form: which protocol the packs speak."""
    return vol.Schema(
        {
            vol.Required(CONF_PROTOCOL): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    # Brand and protocol names: the same in every language.
                    options=[
                        selector.SelectOptionDict(value=p.key, label=p.name)
                        for p in WIRED_PROTOCOLS
                    ],
                )
            )
        }
    )


def _port_selector(ports: Sequence[str]) -> selector.Selector[Any]:
    """HA's serial port picker where it exists (2026.5+), else a list or text."""
    picker = getattr(selector, "SerialPortSelector", None)
    if picker is not None:
        return picker()  # type: ignore[no-any-return]
    return selector.SelectSelector(
        selector.SelectSelectorConfig(options=list(ports), custom_value=True, sort=True)
    )


def port_schema(
    protocol: WiredProtocol,
    ports: Sequence[str],
    defaults: dict[str, Any] | None = None,
) -> vol.Schema:
    """The second form: the port (path or URL) and the baud rate."""
    defaults = defaults or {}
    return vol.Schema(
        {
            vol.Required(
                CONF_SERIAL_PORT, default=defaults.get(CONF_SERIAL_PORT, vol.UNDEFINED)
            ): _port_selector(ports),
            vol.Required(
                CONF_BAUDRATE,
                default=str(defaults.get(CONF_BAUDRATE, protocol.baudrate)),
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[str(rate) for rate in BAUDRATES],
                    mode=selector.SelectSelectorMode.DROPDOWN,
                )
            ),
        }
    )


async def async_serial_ports(hass: HomeAssistant) -> list[str]:
    """The serial ports of this host, ``/dev/serial/by-id`` paths first."""
    if getattr(selector, "SerialPortSelector", None) is not None:
        return []  # HA's own picker lists them
    from homeassistant.components.usb.utils import scan_serial_ports  # noqa: PLC0415

    try:
        ports = await hass.async_add_executor_job(scan_serial_ports)
    except OSError as err:
        _LOGGER.debug("Could not list the serial ports: %s", err)
        return []
    return [port.device for port in ports]


def packs_schema(found: Sequence[FoundPack]) -> vol.Schema:
    """The last form: which of the packs found to add (all, by default)."""
    options = [
        selector.SelectOptionDict(value=str(pack.address), label=pack_label(pack))
        for pack in found
    ]
    return vol.Schema(
        {
            vol.Required(
                CONF_PACKS, default=[str(pack.address) for pack in found]
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=options,
                    multiple=True,
                    mode=selector.SelectSelectorMode.LIST,
                )
            )
        }
    )


def pack_label(pack: FoundPack) -> str:
    """How a found pack is listed: address, model, cells."""
    model = pack.info.model or pack.info.manufacturer
    return f"{pack.address}: {model}, {pack.cells} cells"


async def async_scan(
    protocol: WiredProtocol,
    url: str,
    baudrate: int,
    *,
    bus: SerialBus | None = None,
    addresses: Sequence[int] | None = None,
) -> tuple[ScanResult | None, str | None]:
    """Scan the port; the result, or the translation key of what went wrong.

    Without ``bus`` the scan opens the port itself and frees it afterwards;
    a loaded bus entry passes its own bus (its packs keep reading meanwhile).
    """
    own = bus is None
    try:
        if bus is None:
            bus = shared_bus(protocol.settings(url, baudrate))
        async with asyncio.timeout(SCAN_TIMEOUT):
            result = await scan_bus(bus, protocol, addresses)
    except SerialPortError as err:
        return None, port_error_key(err)
    except BusOwnedError:
        return None, "bus_owned"
    except (BmsError, TimeoutError) as err:
        _LOGGER.debug("Scan of %s failed: %s", url, err)
        return None, "cannot_connect"
    finally:
        if own and bus is not None:
            await bus.close()
            forget_bus(bus)
    if not result.packs and addresses is None:
        return None, "unexpected_data" if result.heard else "no_packs"
    return result, None


def bus_entry_data(
    protocol: WiredProtocol,
    url: str,
    baudrate: int,
    result: ScanResult,
    chosen: Sequence[str],
) -> dict[str, Any]:
    """The config entry data of a bus with the chosen packs."""
    data = {
        CONF_KIND: KIND_BUS,
        CONF_PROTOCOL: protocol.key,
        CONF_SERIAL_PORT: url,
        CONF_BAUDRATE: baudrate,
        CONF_LISTEN: result.listening,
    }
    return with_packs(data, [{CONF_BUS_ADDRESS: int(a)} for a in chosen])


def protocol_of(data: dict[str, Any]) -> WiredProtocol:
    """The wired protocol a bus entry (or a flow's answers) names."""
    return wired_protocol(data[CONF_PROTOCOL])


def port_taken(entries: Iterable[ConfigEntry], url: str, *, but: str = "") -> bool:
    """Whether a bus entry other than ``but`` reads that port already."""
    return any(
        entry.entry_id != but
        and entry.data.get(CONF_KIND) == KIND_BUS
        and entry.data.get(CONF_SERIAL_PORT) == url
        for entry in entries
    )
