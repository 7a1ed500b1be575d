"""Building a BMS session on Home Assistant's Bluetooth stack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bleak.backends.device import BLEDevice
from homeassistant.components import bluetooth
from homeassistant.const import CONF_PASSWORD
from homeassistant.core import HomeAssistant

from .const import CONF_INVERT_CURRENT, CONF_KEEP_CONNECTED, DEFAULT_KEEP_CONNECTED
from .protocol.ble import BleTransport
from .protocol.client import BmsClient
from .protocol.driver import DriverMemory, DriverOptions
from .protocol.matching import Advertisement
from .protocol.registry import driver_by_family
from .protocol.snapshot import DeviceInfo
from .slots import slot_policy


def advertisement(info: bluetooth.BluetoothServiceInfoBleak) -> Advertisement:
    """The matcher view of a Bluetooth service info."""
    return Advertisement(
        address=info.address,
        name=info.name,
        service_uuids=tuple(info.service_uuids),
        manufacturer_data=dict(info.manufacturer_data),
        service_data=dict(info.service_data),
    )


def build_client(
    hass: HomeAssistant,
    address: str,
    family: str,
    options: Mapping[str, Any],
    *,
    variant: str | None = None,
    memory: DriverMemory | None = None,
) -> BmsClient:
    """A session for one BMS, routed through the best adapter or proxy."""

    def device_provider() -> BLEDevice | None:
        return bluetooth.async_ble_device_from_address(hass, address, connectable=True)

    driver_class = driver_by_family(family)
    device = device_provider()
    driver = driver_class(
        BleTransport(device_provider, driver_class.gatt),
        DriverOptions(
            address=address,
            name=device.name if device is not None else None,
            password=options.get(CONF_PASSWORD) or None,
            invert_current=options.get(CONF_INVERT_CURRENT, False),
            variant=variant,
            memory=memory,
        ),
    )
    return BmsClient(
        driver,
        keep_connected=options.get(CONF_KEEP_CONNECTED, DEFAULT_KEEP_CONNECTED),
        policy=slot_policy(hass, address),
    )


async def async_probe(
    hass: HomeAssistant, address: str, family: str, options: Mapping[str, Any]
) -> tuple[DeviceInfo, str | None]:
    """Connect once, read device info and a snapshot; return info and variant.

    Raises the driver's :class:`BmsError` on any failure.
    """
    client = build_client(hass, address, family, {**options, CONF_KEEP_CONNECTED: True})
    try:
        info = await client.read_device_info()
        await client.read_snapshot()
        return info, client.driver.variant
    finally:
        await client.close()
