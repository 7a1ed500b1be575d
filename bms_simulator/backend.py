"""A bleak backend client whose peripheral is a :class:`SimulatedBms`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError

from .connecting import ConnectFailedError
from .device import SimulatedBms, full_uuid


class SlotCounter:
    """Connection slots of one (virtual) proxy and the addresses holding them."""

    def __init__(self, slots: int) -> None:
        """Start with every slot free."""
        self.slots = slots
        self.holders: list[str] = []
        self.peak = 0

    @property
    def used(self) -> int:
        """Slots in use."""
        return len(self.holders)

    @property
    def free(self) -> int:
        """Free slots."""
        return self.slots - self.used

    def take(self, address: str) -> None:
        """Give a slot to ``address``."""
        self.holders.append(address)
        self.peak = max(self.peak, self.used)

    def give_back(self, address: str) -> None:
        """Free the slot of ``address``."""
        self.holders.remove(address)


def _unavailable(device: SimulatedBms) -> bool:
    """Whether a device is off the air or has a central already."""
    return device.gone or device.connected


class SimulatedBleakClient(BaseBleakClient):
    """Routes GATT operations to a simulated device looked up by address.

    Works with bleak 2.x and 3.x: both accept the callback and the timeout as
    keywords (3.x requires them).
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        devices: Mapping[str, SimulatedBms],
        slots: SlotCounter | None = None,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        """Bind to the device registry of a virtual proxy."""
        super().__init__(
            address_or_ble_device,
            disconnected_callback=disconnected_callback,
            timeout=timeout,
            **kwargs,
        )
        self._devices = devices
        self._slots = slots
        self._device: SimulatedBms | None = None
        self._callbacks: dict[int, Callable[[bytearray], None]] = {}

    @property
    def mtu_size(self) -> int:
        """ATT MTU (default)."""
        return 23

    @property
    def is_connected(self) -> bool:
        """Whether the simulated link is up."""
        return self._device is not None

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        """Connect to the simulated device and expose its GATT table."""
        device = self._devices.get(self.address.upper())
        if device is None or device.gone:
            raise BleakError(f"Device {self.address} not found")
        if device.connected:
            raise BleakError(f"Device {self.address} already has a central")
        if self._slots is not None:
            if self._slots.free <= 0:
                raise BleakError("No free connection slot on the proxy")
            self._slots.take(device.address.upper())
        try:
            # The proxy holds the slot while it connects (and discovers).
            await device.connect_model.establish()
        except BaseException as err:
            self._give_back(device)
            if isinstance(err, ConnectFailedError):
                raise BleakError(str(err)) from err
            raise
        if _unavailable(device):  # it may have gone while connecting
            self._give_back(device)
            raise BleakError(f"Device {self.address} went away while connecting")
        collection = BleakGATTServiceCollection()
        for spec in device.services:
            service = BleakGATTService(None, spec.handle, full_uuid(spec.uuid))
            collection.add_service(service)
            for char in spec.characteristics:
                collection.add_characteristic(
                    BleakGATTCharacteristic(
                        None,
                        char.handle,
                        full_uuid(char.uuid),
                        list(char.properties),  # type: ignore[arg-type]
                        lambda: 20,
                        service,
                    )
                )
        self.services = collection
        self._device = device
        device.attach(self._on_notify, self._on_dropped)

    def _give_back(self, device: SimulatedBms) -> None:
        if self._slots is not None:
            self._slots.give_back(device.address.upper())

    def _on_notify(self, handle: int, data: bytes) -> None:
        callback = self._callbacks.get(handle)
        if callback is not None:
            callback(bytearray(data))

    def _on_dropped(self) -> None:
        """The simulated device vanished."""
        self._release()
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    def _release(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.detach()
            if self._slots is not None:
                self._slots.give_back(device.address.upper())
        self._callbacks.clear()

    async def disconnect(self) -> None:
        """Disconnect."""
        self._release()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Pairing is not simulated."""
        raise NotImplementedError

    async def unpair(self) -> None:
        """Pairing is not simulated."""
        raise NotImplementedError

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, **kwargs: Any
    ) -> bytearray:
        """Reads return nothing."""
        return bytearray()

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, **kwargs: Any
    ) -> bytearray:
        """Reads return nothing."""
        return bytearray()

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        """Hand the bytes to the simulated device."""
        if self._device is None:
            raise BleakError("Not connected")
        self._device.receive(characteristic.handle, bytes(data))

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: Any
    ) -> None:
        """Descriptor writes are accepted and ignored."""

    async def start_notify(
        self,
        characteristic: BleakGATTCharacteristic,
        callback: NotifyCallback,
        **kwargs: Any,
    ) -> None:
        """Register the notification callback of a characteristic."""
        if self._device is None:
            raise BleakError("Not connected")
        refused = getattr(self._device, "refused_notify", ())
        if characteristic.handle in refused:
            raise BleakError("[org.bluez.Error.NotPermitted] Notify acquired")
        self._callbacks[characteristic.handle] = callback

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Stop notifications."""
        self._callbacks.pop(characteristic.handle, None)
