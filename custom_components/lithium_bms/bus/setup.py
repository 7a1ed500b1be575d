"""Setting up a bus entry: the port, a coordinator per pack, the bank."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_interval

from ..analytics.bank import Wiring
from ..const import (
    CONF_BAUDRATE,
    CONF_DRIVER_MEMORY,
    CONF_INVERT_CURRENT,
    CONF_LISTEN,
    CONF_PROTOCOL,
    CONF_SERIAL_PORT,
    CONF_VARIANT,
    CONF_WIRING,
    DOMAIN,
    MIN_BANK_MEMBERS,
)
from ..coordinator import LithiumBmsConfigEntry
from ..protocol.errors import SerialPortError
from ..protocol.registry import wired_protocol
from ..protocol.serial.bus import SerialBus, forget_bus, shared_bus
from ..protocol.wired import WiredProtocol, has_master, wired_client
from ..tracker import (
    PackTracker,
)
from .coordinator import BusBankCoordinator, BusPackCoordinator
from .errors import port_error_key
from .kind import BusData
from .packs import bus_key, pack_identity, port_label, stored_packs

_LOGGER = logging.getLogger(__name__)

# How often a bus a master owns is listened to for packs it does not have.
NEW_PACKS_EVERY = timedelta(minutes=10)


async def async_setup_bus(
    hass: HomeAssistant, entry: LithiumBmsConfigEntry, platforms: list[Platform]
) -> bool:
    """Open the port, start every pack, form the bank, add the entities."""
    try:
        protocol = wired_protocol(entry.data[CONF_PROTOCOL])
    except KeyError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unknown_protocol",
            translation_placeholders={"protocol": str(entry.data[CONF_PROTOCOL])},
        ) from err
    settings = protocol.settings(
        entry.data[CONF_SERIAL_PORT], entry.data.get(CONF_BAUDRATE)
    )
    try:
        bus = shared_bus(settings)
        listening = await _async_listening(hass, entry, bus, protocol)
    except SerialPortError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=port_error_key(err),
            translation_placeholders={"port": port_label(entry.data)},
        ) from err
    packs = _pack_coordinators(hass, entry, bus, protocol, listening)
    data = BusData(entry, protocol, bus, listening, packs, None)
    for pack in packs.values():
        await pack.async_start()
    if packs and not any(pack.last_update_success for pack in packs.values()):
        await data.async_close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="no_pack_answers",
            translation_placeholders={"port": port_label(entry.data)},
        )
    device = _bus_device(hass, entry, protocol)
    if len(packs) >= MIN_BANK_MEMBERS:
        data.bank = BusBankCoordinator(
            hass,
            entry,
            {pack.pack.key: pack for pack in packs.values()},
            Wiring(entry.options.get(CONF_WIRING, Wiring.PARALLEL.value)),
            device,
        )
        await data.bank.async_config_entry_first_refresh()
    entry.runtime_data = data  # type: ignore[assignment]
    entry.async_on_unload(data.async_close)
    if listening:

        @callback
        def _listen_for_new_packs(_: datetime) -> None:
            entry.async_create_background_task(
                hass, data.async_find_new_packs(hass), "lithium_bms new packs"
            )

        entry.async_on_unload(
            async_track_time_interval(hass, _listen_for_new_packs, NEW_PACKS_EVERY)
        )

    async def _on_stop(_: Event) -> None:
        await data.async_close()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _on_stop)
    )
    await hass.config_entries.async_forward_entry_setups(entry, platforms)
    return True


async def _async_listening(
    hass: HomeAssistant,
    entry: LithiumBmsConfigEntry,
    bus: SerialBus,
    protocol: WiredProtocol,
) -> bool:
    """Whether to listen: once a master was heard, and whenever one talks now.

    A bus the scan found without master is checked again: a master added
    since must never be talked over.
    """
    try:
        if entry.data.get(CONF_LISTEN):
            await has_master(bus, 0)  # only proves the port opens
            return True
        heard = await has_master(bus, protocol.listen_window)
    except SerialPortError:
        forget_bus(bus)
        raise
    if heard and not protocol.listens:
        forget_bus(bus)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="master_on_bus",
            translation_placeholders={"port": port_label(entry.data)},
        )
    if heard:
        _LOGGER.info("A master now owns %s: reading by listening", entry.title)
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_LISTEN: True}
        )
    return heard


def _pack_coordinators(
    hass: HomeAssistant,
    entry: LithiumBmsConfigEntry,
    bus: SerialBus,
    protocol: WiredProtocol,
    listening: bool,
) -> dict[int, BusPackCoordinator]:
    """A coordinator for each stored pack."""
    packs: dict[int, BusPackCoordinator] = {}
    for stored in stored_packs(entry):
        address = int(stored["bus_address"])
        identity = pack_identity(entry, address)
        client = wired_client(
            bus,
            protocol,
            address,
            listen=listening,
            invert_current=entry.options.get(CONF_INVERT_CURRENT, False),
            variant=stored.get(CONF_VARIANT),
            memory=stored.get(CONF_DRIVER_MEMORY),
        )
        tracker = PackTracker.from_options(
            hass, identity.storage_id, entry.options, name=identity.name
        )
        packs[address] = BusPackCoordinator(
            hass, entry, client, tracker, pack=identity, bus_address=address
        )
    return packs


def _bus_device(
    hass: HomeAssistant, entry: LithiumBmsConfigEntry, protocol: WiredProtocol
) -> DeviceInfo:
    """Register the bus device (the packs' parent, and the bank's device)."""
    device = DeviceInfo(
        identifiers={(DOMAIN, bus_key(entry))},
        name=entry.title,
        manufacturer=protocol.driver.manufacturer,
        model=f"{protocol.name} bus",
    )
    dr.async_get(hass).async_get_or_create(config_entry_id=entry.entry_id, **device)
    return device
