"""A modelled Bluetooth LE link between a host and a simulated BMS.

The model has four knobs: the size of one notification, the time each
notification takes to arrive (one at a time), the time a write takes to reach
the BMS and what connecting costs (:class:`ConnectCost`: setup time, GATT
discovery on the first connection, seeded failures). :meth:`BleLink.apply`
puts them on a simulator, whatever carries its bytes (a
:class:`SimulatorTransport` or the bleak backend behind a virtual proxy);
:class:`LinkTransport` counts and records what crosses the link.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from custom_components.lithium_bms.protocol.transport import (
    DataCallback,
    DisconnectCallback,
    Transport,
)

from .connecting import FREE, ConnectCost, ConnectModel
from .device import SimulatedBms

DEFAULT_MTU = 20
DEFAULT_NOTIFY_LATENCY = 0.015
DEFAULT_WRITE_LATENCY = 0.030


@dataclass(frozen=True, slots=True)
class BleLink:
    """Notification size (bytes), latencies (seconds), connection cost."""

    mtu: int = DEFAULT_MTU
    notify_latency: float = DEFAULT_NOTIFY_LATENCY
    write_latency: float = DEFAULT_WRITE_LATENCY
    connect: ConnectCost = FREE

    def least_time(self, writes: int, notifications: int) -> float:
        """Seconds the bytes of one exchange need at least on this link.

        The writes go out back to back (the first one's latency is the only
        one waited for) and the notifications follow one another.
        """
        first_write = self.write_latency if writes else 0.0
        return first_write + notifications * self.notify_latency

    def apply[D: SimulatedBms](self, device: D) -> D:
        """Make ``device`` chunk, pace and receive like at the end of this link.

        Each write reaches the device ``write_latency`` after it was sent (as a
        write without response: the sender does not wait); each notification
        leaves ``notify_latency`` after the previous one.
        """
        device.mtu = self.mtu
        device.notify_delay = self.notify_latency
        device.connect_model = ConnectModel(self.connect, device.address)
        if self.write_latency:
            receive = getattr(device, "_link_receive", device.receive)
            setattr(device, "_link_receive", receive)  # noqa: B010
            setattr(  # noqa: B010
                device, "receive", _DelayedWrites(receive, self.write_latency)
            )
        return device


class _DelayedWrites:
    """Hands writes to the device ``latency`` after they were sent, in order.

    Timers due at the same time may run in any order (writes sent back to back
    on the virtual clock are), so each timer delivers the oldest write.
    """

    def __init__(self, receive: Callable[[int, bytes], None], latency: float) -> None:
        self._receive = receive
        self._latency = latency
        self._queue: deque[tuple[int, bytes]] = deque()

    def __call__(self, handle: int, data: bytes) -> None:
        self._queue.append((handle, data))
        asyncio.get_running_loop().call_later(self._latency, self._next)

    def _next(self) -> None:
        self._receive(*self._queue.popleft())


@dataclass(slots=True)
class LinkCounters:
    """What crossed the link: requests and bytes each way, notifications."""

    writes: int = 0
    bytes_written: int = 0
    notifications: int = 0
    bytes_received: int = 0

    @property
    def bytes_total(self) -> int:
        """Bytes in both directions."""
        return self.bytes_written + self.bytes_received

    def copy(self) -> LinkCounters:
        """A snapshot of the counters."""
        return LinkCounters(
            self.writes, self.bytes_written, self.notifications, self.bytes_received
        )

    def since(self, earlier: LinkCounters) -> LinkCounters:
        """The difference to an earlier snapshot."""
        return LinkCounters(
            self.writes - earlier.writes,
            self.bytes_written - earlier.bytes_written,
            self.notifications - earlier.notifications,
            self.bytes_received - earlier.bytes_received,
        )


@dataclass(slots=True)
class Exchange:
    """One write and the notifications that arrived before the next write."""

    request: bytes
    replies: list[bytes] = field(default_factory=list)


class LinkTransport(Transport):
    """Wraps a transport: counts and records the traffic.

    While recording, every write opens an :class:`Exchange`; notifications that
    arrive before the first write go to an exchange with an empty request.
    """

    def __init__(self, inner: Transport) -> None:
        """Wrap ``inner``."""
        self.inner = inner
        self.counters = LinkCounters()
        self.recording: list[Exchange] | None = None

    @property
    def is_connected(self) -> bool:
        """Whether the wrapped link is up."""
        return self.inner.is_connected

    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        """Connect the wrapped transport, counting every notification."""

        def _on_data(data: bytes) -> None:
            self.counters.notifications += 1
            self.counters.bytes_received += len(data)
            if self.recording is not None:
                self.recording[-1].replies.append(data)
            on_data(data)

        await self.inner.connect(_on_data, on_disconnect)

    def start_recording(self) -> list[Exchange]:
        """Record the traffic from now on, into the list returned."""
        self.recording = [Exchange(b"")]
        return self.recording

    async def write(self, data: bytes) -> None:
        """Send, counting."""
        self.counters.writes += 1
        self.counters.bytes_written += len(data)
        if self.recording is not None:
            self.recording.append(Exchange(data))
        await self.inner.write(data)

    async def disconnect(self) -> None:
        """Disconnect the wrapped transport."""
        await self.inner.disconnect()
