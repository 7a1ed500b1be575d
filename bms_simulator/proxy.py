"""A virtual Bluetooth proxy: a remote scanner whose connections reach simulators.

Registered with Home Assistant's Bluetooth stack like an ESPHome proxy, so
discovery, connection routing and HA's client wrapper all run for real.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from bleak_retry_connector.bluez import Allocations
from homeassistant.components.bluetooth import (
    MONOTONIC_TIME,
    BaseHaRemoteScanner,
    HaBluetoothConnector,
    async_register_scanner,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from .backend import SimulatedBleakClient, SlotCounter
from .device import SimulatedBms

DEFAULT_SLOTS = 3
READVERTISE_INTERVAL = timedelta(seconds=5)


class VirtualProxy(BaseHaRemoteScanner):
    """A remote scanner that advertises and connects simulated devices."""

    def __init__(self, source: str, slots: int = DEFAULT_SLOTS) -> None:
        """Create a proxy with ``slots`` connection slots."""
        self.devices: dict[str, SimulatedBms] = {}
        self.slot_counter = SlotCounter(slots)
        connector = HaBluetoothConnector(
            client=partial(  # type: ignore[arg-type]
                SimulatedBleakClient, devices=self.devices, slots=self.slot_counter
            ),
            source=source,
            can_connect=lambda: self.slot_counter.free > 0,
        )
        super().__init__(source, source, connector, True)

    def get_allocations(self) -> Allocations:
        """Connection slot usage, as an ESPHome proxy reports it."""
        counter = self.slot_counter
        return Allocations(self.source, counter.slots, counter.free, counter.holders[:])

    def add(self, device: SimulatedBms) -> SimulatedBms:
        """Host a simulated device (advertised from the next round)."""
        self.devices[device.address.upper()] = device
        return device

    @callback
    def advertise(self, device: SimulatedBms) -> None:
        """Send one advertisement of a device (unless it is gone)."""
        if device.gone:
            return
        adv = device.advertising
        self._async_on_advertisement(
            device.address,
            adv.rssi,
            adv.name,
            list(adv.service_uuids),
            {},
            dict(adv.manufacturer_data),
            None,
            {},
            MONOTONIC_TIME(),
        )

    @callback
    def advertise_all(self) -> None:
        """Advertise every hosted device once."""
        for device in list(self.devices.values()):
            self.advertise(device)


@callback
def async_start_proxy(hass: HomeAssistant, proxy: VirtualProxy) -> CALLBACK_TYPE:
    """Register the proxy, advertise now and every few seconds; return a stopper."""
    unregister = async_register_scanner(
        hass, proxy, connection_slots=proxy.slot_counter.slots
    )
    unsetup = proxy.async_setup()
    proxy.advertise_all()

    # A callback: a plain function would run in an executor thread, and
    # advertise into Home Assistant's Bluetooth stack from outside its loop.
    @callback
    def _readvertise(_now: datetime) -> None:
        proxy.advertise_all()

    stop_timer = async_track_time_interval(hass, _readvertise, READVERTISE_INTERVAL)

    @callback
    def _stop() -> None:
        stop_timer()
        unsetup()
        unregister()

    return _stop
