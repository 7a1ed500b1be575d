"""Setting up a CAN entry: the listening session, its coordinator, its tracker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant

from ..const import (
    CONF_CAN_BITRATE,
    CONF_CAN_CHANNEL,
    CONF_CAN_INTERFACE,
    CONF_CAN_JK_ADDRESS,
    CONF_INVERT_CURRENT,
)
from ..coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from ..identity import PackIdentity
from ..pack import LithiumBmsData
from ..protocol.can.driver import PylonCanDriver
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
    client = BmsClient(
        can_driver(
            can_settings(entry.data),
            entry.options,
            int(entry.data.get(CONF_CAN_JK_ADDRESS, 0)),
        ),
        keep_connected=True,
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
