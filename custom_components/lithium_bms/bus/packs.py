"""The packs of a bus entry as stored: their addresses and driver state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from homeassistant.config_entries import ConfigEntry

from ..const import CONF_BUS_ADDRESS, CONF_PACKS, CONF_PROTOCOL, CONF_SERIAL_PORT
from ..identity import PackIdentity
from ..protocol.registry import wired_protocol
from ..protocol.serial.port import redacted


def stored_packs(entry: ConfigEntry[Any]) -> list[dict[str, Any]]:
    """The entry's packs, each a dict with at least its bus address."""
    return [dict(pack) for pack in entry.data.get(CONF_PACKS, [])]


def pack_addresses(entry: ConfigEntry[Any]) -> list[int]:
    """The bus addresses of the entry's packs, in order."""
    return [int(pack[CONF_BUS_ADDRESS]) for pack in stored_packs(entry)]


def bus_key(entry: ConfigEntry[Any]) -> str:
    """The identifier of the bus device (the packs' ``via_device``)."""
    return f"bus_{entry.entry_id}"


def pack_identity(entry: ConfigEntry[Any], address: int) -> PackIdentity:
    """The pack at ``address`` on the entry's bus."""
    return PackIdentity(
        key=f"{entry.entry_id}_{address}",
        name=f"{_short_name(entry)} pack {address}",
        storage_id=f"{entry.entry_id}_{address}",
        bluetooth=False,
        via=bus_key(entry),
    )


def _short_name(entry: ConfigEntry[Any]) -> str:
    """The protocol's short name ("PACE"), or the entry's title if unknown."""
    try:
        return wired_protocol(entry.data[CONF_PROTOCOL]).short_name
    except KeyError:
        return entry.title


def with_packs(
    data: Mapping[str, Any], packs: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """``data`` with ``packs`` instead of its own, ordered by address."""
    ordered = sorted(packs, key=lambda pack: int(pack[CONF_BUS_ADDRESS]))
    return {**data, CONF_PACKS: [dict(pack) for pack in ordered]}


def port_label(entry_data: Mapping[str, Any]) -> str:
    """The port as shown in titles and messages (no credentials, short)."""
    url = redacted(str(entry_data[CONF_SERIAL_PORT]))
    return url.rsplit("/", 1)[-1] if url.startswith("/") else url
