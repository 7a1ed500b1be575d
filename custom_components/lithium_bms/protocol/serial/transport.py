"""A serial transport: one addressed BMS on a (possibly shared) serial bus.

It implements the same :class:`Transport` interface as Bluetooth, so drivers
do not change. Several transports on one :class:`SerialBus` take turns; each
receives only the bytes of its own turn.
"""

from __future__ import annotations

from ..errors import BmsConnectionError
from ..transport import DataCallback, DisconnectCallback, Transport
from .bus import SerialBus

DEFAULT_HOLD = 1.0


class SerialTransport(Transport):
    """Talks to one BMS through ``bus``.

    ``hold`` is how long the line stays this transport's after its last write
    or received byte: the protocol's reply timeout (Seplos V2: 500 ms). A
    transport that ``listens`` never sends: it hears every byte on the line
    (another master owns the bus).
    """

    def __init__(
        self, bus: SerialBus, *, hold: float = DEFAULT_HOLD, listens: bool = False
    ) -> None:
        """Bind to the bus; nothing opens before :meth:`connect`."""
        self.bus = bus
        self.hold = hold
        self.listens = listens
        self._on_data: DataCallback | None = None
        self._on_disconnect: DisconnectCallback | None = None

    @property
    def is_connected(self) -> bool:
        """Whether this transport is attached and the port is open."""
        return self._on_data is not None and self.bus.is_open

    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        """Join the bus, opening the port if it is not open yet."""
        await self.bus.attach(self)
        self._on_data = on_data
        self._on_disconnect = on_disconnect

    async def write(self, data: bytes) -> None:
        """Send one request in this transport's turn."""
        if self._on_data is None:
            raise BmsConnectionError("not connected")
        await self.bus.send(self, data)

    def release(self) -> None:
        """Give the line back before ``hold`` runs out (the reply is complete)."""
        self.bus.release(self)

    async def disconnect(self) -> None:
        """Leave the bus; the last transport out closes the port."""
        attached = self._on_data is not None
        self._on_data = None
        self._on_disconnect = None
        if attached:
            await self.bus.detach(self)

    def bus_data(self, data: bytes) -> None:
        """Bytes of this transport's turn (called by the bus)."""
        if self._on_data is not None:
            self._on_data(data)

    def bus_lost(self) -> None:
        """The port closed (called by the bus)."""
        on_disconnect = self._on_disconnect
        self._on_data = None
        self._on_disconnect = None
        if on_disconnect is not None:
            on_disconnect()
