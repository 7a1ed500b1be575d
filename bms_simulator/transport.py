"""A direct transport to a simulated device, for tests and benchmarks without HA."""

from __future__ import annotations

from custom_components.lithium_bms.protocol.errors import BmsConnectionError
from custom_components.lithium_bms.protocol.transport import (
    DataCallback,
    DisconnectCallback,
    Transport,
)

from .connecting import ConnectFailedError
from .device import SimulatedBms


class SimulatorTransport(Transport):
    """Talks to a :class:`SimulatedBms` in-process, with its chunking and faults."""

    def __init__(self, device: SimulatedBms) -> None:
        """Bind to one simulated device."""
        self.device = device
        self._on_data: DataCallback | None = None
        self._on_disconnect: DisconnectCallback | None = None
        self.writes = 0
        self.bytes_written = 0
        self.bytes_received = 0

    @property
    def is_connected(self) -> bool:
        """Whether the simulated link is up."""
        return self._on_data is not None

    @property
    def service(self) -> int | str | None:
        """The device's service that holds its notify characteristic."""
        return next(
            s.uuid
            for s in self.device.services
            if any(c.handle == self.device.notify_handle for c in s.characteristics)
        )

    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        """Attach to the device."""
        if self.device.gone or self.device.connected:
            raise BmsConnectionError("simulated device unavailable")
        try:
            await self.device.connect_model.establish()
        except ConnectFailedError as err:
            raise BmsConnectionError(str(err)) from err
        if self.device.gone or self.device.connected:
            raise BmsConnectionError("simulated device unavailable")
        self._on_data = on_data
        self._on_disconnect = on_disconnect
        self.device.attach(self._notify, self._dropped)

    def _notify(self, _handle: int, data: bytes) -> None:
        self.bytes_received += len(data)
        if self._on_data is not None:
            self._on_data(data)

    def _dropped(self) -> None:
        on_disconnect = self._on_disconnect
        self._detach()
        if on_disconnect is not None:
            on_disconnect()

    def _detach(self) -> None:
        if self._on_data is not None:
            self._on_data = None
            self._on_disconnect = None
            self.device.detach()

    async def write(self, data: bytes) -> None:
        """Deliver a request to the device."""
        if self._on_data is None:
            raise BmsConnectionError("not connected")
        self.writes += 1
        self.bytes_written += len(data)
        write_handle = next(
            c.handle
            for s in self.device.services
            for c in s.characteristics
            if "write" in c.properties or "write-without-response" in c.properties
        )
        self.device.receive(write_handle, data)

    async def disconnect(self) -> None:
        """Detach from the device."""
        self._detach()
