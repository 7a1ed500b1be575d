"""Setting up a CAN entry: the listening session, its coordinator, its tracker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryError

from ..const import (
    CONF_CAN_BITRATE,
    CONF_CAN_CHANNEL,
    CONF_CAN_INTERFACE,
    CONF_CAN_JK_ADDRESS,
    CONF_INVERT_CURRENT,
    DOMAIN,
)
from ..coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from ..identity import PackIdentity
from ..pack import LithiumBmsData
from ..protocol.can.driver import PylonCanDriver
from ..protocol.can.jk_frames import ADDRESSES
from ..protocol.can.transport import CanSettings, CanTransport
from ..protocol.client import BmsClient
from ..protocol.driver import DriverOptions
from ..tracker import (
    PackTracker,
)


def can_settings(data: Mapping[str, Any]) -> CanSettings:
    """The interface, channel and bit rate an entry (or the flow) names."""
    return CanSettings(
        str(data[CONF_CAN_INTERFACE]),
        str(data[CONF_CAN_CHANNEL]),
        int(data[CONF_CAN_BITRATE]),
    )


# What a CAN entry stores; a hand-edited entry that breaks it is not set up.
STORED = vol.Schema(
    {
        vol.Required(CONF_CAN_INTERFACE): vol.All(str, vol.Length(min=1)),
        vol.Required(CONF_CAN_CHANNEL): vol.All(str, vol.Length(min=1)),
        vol.Required(CONF_CAN_BITRATE): vol.All(int, vol.Range(min=1)),
        vol.Optional(CONF_CAN_JK_ADDRESS, default=0): vol.All(
            int, vol.Range(min=0, max=ADDRESSES - 1)
        ),
    },
    extra=vol.ALLOW_EXTRA,
)


def stored_settings(data: Mapping[str, Any]) -> tuple[CanSettings, int]:
    """The entry's adapter settings and JK address; a translated error if broken."""
    try:
        valid = STORED(dict(data))
    except vol.Invalid as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="can_entry_invalid",
            translation_placeholders={"error": str(err)},
        ) from err
    return can_settings(valid), valid[CONF_CAN_JK_ADDRESS]


def can_driver(
    settings: CanSettings, options: Mapping[str, Any], jk_address: int | None
) -> PylonCanDriver:
    """The listening driver on its own python-can bus.

    ``jk_address`` is the JK BMS read (None: the lowest heard, for the flow).
    """
    return PylonCanDriver(
        CanTransport(settings),
        DriverOptions(
            address=f"{settings.interface}:{settings.channel}",
            invert_current=options.get(CONF_INVERT_CURRENT, False),
            listen=True,
        ),
        jk_address=jk_address,
    )


def can_identity(entry: LithiumBmsConfigEntry) -> PackIdentity:
    """The battery's keys: the entry's interface and channel; no Bluetooth."""
    return PackIdentity(
        entry.unique_id or entry.entry_id,
        entry.title,
        entry.entry_id,
        bluetooth=False,
    )


async def async_setup_can(
    hass: HomeAssistant, entry: LithiumBmsConfigEntry, platforms: list[Platform]
) -> bool:
    """Listen on the bus, read once, add the entities."""
    settings, jk_address = stored_settings(entry.data)
    client = BmsClient(
        can_driver(settings, entry.options, jk_address), keep_connected=True
    )
    tracker = PackTracker.from_options(hass, entry.entry_id, entry.options)
    coordinator = LithiumBmsCoordinator(
        hass, entry, client, tracker, pack=can_identity(entry)
    )
    entry.async_on_unload(coordinator.async_shutdown)

    async def _on_stop(_: Event) -> None:
        await client.close()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _on_stop)
    )
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = LithiumBmsData(coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, platforms)
    return True
