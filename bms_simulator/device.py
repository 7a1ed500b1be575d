"""A simulated BMS: GATT layout, request handling, notifications and faults."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from .connecting import FREE, ConnectModel
from .pack import PackModel

BASE_UUID = "0000{:04x}-0000-1000-8000-00805f9b34fb"


def uuid16(value: int) -> str:
    """Expand a 16-bit UUID."""
    return BASE_UUID.format(value)


def full_uuid(value: int | str) -> str:
    """A 16-bit UUID expanded, a 128-bit vendor UUID as given (lowercase)."""
    return uuid16(value) if isinstance(value, int) else value.lower()


class Fault(StrEnum):
    """Misbehaviour a test can inject into the next answers."""

    NO_ANSWER = "no_answer"
    BAD_CHECKSUM = "bad_checksum"
    TRUNCATED = "truncated"
    DISCONNECT_MID_FRAME = "disconnect_mid_frame"
    IGNORE_COMMAND = "ignore_command"


@dataclass(frozen=True)
class SimCharacteristic:
    """One characteristic: handle, UUID (16-bit int or 128-bit str), properties."""

    handle: int
    uuid: int | str
    properties: tuple[str, ...]


@dataclass(frozen=True)
class SimService:
    """One GATT service (UUID as for :class:`SimCharacteristic`)."""

    handle: int
    uuid: int | str
    characteristics: tuple[SimCharacteristic, ...]


@dataclass
class Advertising:
    """What the simulated device advertises."""

    name: str
    service_uuids: list[str] = field(default_factory=list)
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    rssi: int = -60


type NotifyCallback = Callable[[int, bytes], None]


class SimulatedBms(ABC):
    """Base of every family simulator.

    ``pack`` is the ground truth; subclasses encode it in their protocol.
    Notifications are delivered asynchronously, in ``mtu``-sized chunks.
    ``hung`` keeps the link up but answers nothing; ``gone`` takes the device
    off the air.
    """

    family: str
    services: tuple[SimService, ...]
    notify_handle: int
    # False: the device reports only its highest and lowest cell and probe.
    per_cell = True

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Create a device with a pack model."""
        self.address = address
        self.pack = pack or PackModel()
        self.advertising = self.default_advertising(name)
        self.mtu = 20
        self.notify_delay = 0.0
        self.gone = False
        self.hung = False
        self.faults: deque[Fault] = deque()
        self.writes: list[bytes] = []
        self.connections = 0
        # Frames a streaming device sent unasked (its ticks), for tests.
        self.stream_ticks = 0
        self._ticked = asyncio.Event()
        # Notifications that reached a host.
        self.notified = 0
        # What connecting costs (free unless a modelled link sets it).
        self.connect_model = ConnectModel(FREE, address)
        self._notify: NotifyCallback | None = None
        self._drop: Callable[[], None] | None = None
        # Notifications on their way (and a scheduled drop), lost at a detach.
        self._in_flight: list[asyncio.TimerHandle] = []
        # What those timers send, oldest first (None: drop the link).
        self._outbox: deque[bytes | None] = deque()

    async def stream_advances(self, frames: int = 3, timeout: float = 5.0) -> None:
        """Wait, in real time and bounded, until the stream sent ``frames`` more.

        A change to the pack shows in the frames built after it; the first of
        them reaches the host before the last is built. TimeoutError if the
        stream does not advance.
        """
        wanted = self.stream_ticks + frames
        async with asyncio.timeout(timeout):
            while self.stream_ticks < wanted:
                await self._ticked.wait()
        await asyncio.sleep(0.005)

    def count_stream_tick(self) -> None:
        """Count a frame the stream sent unasked; wake whoever waits for it."""
        self.stream_ticks += 1
        self._ticked.set()
        self._ticked = asyncio.Event()

    @abstractmethod
    def default_advertising(self, name: str) -> Advertising:
        """The family's advertisement."""

    @abstractmethod
    def handle_write(self, handle: int, data: bytes) -> None:
        """Process bytes written by the host; answer through :meth:`send`."""

    @property
    def probes(self) -> list[float]:
        """Every temperature the device reports, in its probes' order."""
        return list(self.pack.temperatures)

    @property
    def connected(self) -> bool:
        """Whether a host is connected."""
        return self._notify is not None

    def inject(self, fault: Fault, count: int = 1) -> None:
        """Misbehave on the next ``count`` answers."""
        self.faults.extend([fault] * count)

    def attach(self, notify: NotifyCallback, drop: Callable[[], None]) -> None:
        """A host connected."""
        self._notify = notify
        self._drop = drop
        self.connections += 1
        self.on_connect()

    def detach(self) -> None:
        """The host disconnected: what was still on its way is lost."""
        self._notify = None
        self._drop = None
        for handle in self._in_flight:
            handle.cancel()
        self._in_flight.clear()
        self._outbox.clear()
        self.on_disconnect()

    def carried_temperature(self, value: float) -> float:
        """A pack temperature as the protocol carries it (the soak compares that)."""
        return value

    def on_connect(self) -> None:
        """Hook: a host connected."""

    def on_disconnect(self) -> None:
        """Hook: the host went away."""

    def receive(self, handle: int, data: bytes) -> None:
        """Entry point for a GATT write."""
        self.writes.append(data)
        self.handle_write(handle, data)

    def take_fault(self, *kinds: Fault) -> Fault | None:
        """Pop the next fault if it is one of ``kinds``."""
        if self.faults and self.faults[0] in kinds:
            return self.faults.popleft()
        return None

    def corrupt(self, frame: bytes) -> bytes:
        """A copy of ``frame`` with its checksum byte flipped."""
        return frame[:-2] + bytes(((frame[-2] ^ 0x5A),)) + frame[-1:]

    def send(self, frame: bytes) -> None:
        """Send a reply, applying any pending answer fault (none while hung)."""
        if self.hung:
            return
        fault = self.take_fault(
            Fault.NO_ANSWER,
            Fault.BAD_CHECKSUM,
            Fault.TRUNCATED,
            Fault.DISCONNECT_MID_FRAME,
        )
        if fault is Fault.NO_ANSWER:
            return
        if fault is Fault.BAD_CHECKSUM:
            frame = self.corrupt(frame)
        elif fault is Fault.TRUNCATED:
            frame = frame[: max(1, len(frame) // 2)]
        elif fault is Fault.DISCONNECT_MID_FRAME:
            self._deliver(frame[: max(1, len(frame) // 2)], then_drop=True)
            return
        self._deliver(frame)

    def _deliver(self, frame: bytes, then_drop: bool = False) -> None:
        notify = self._notify
        if notify is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._in_flight = [h for h in self._in_flight if h.when() >= now]
        # One notification at a time on the link: a frame queues behind the
        # notifications still on their way. Timers due at the same time may
        # run in any order, so each takes the oldest item of the outbox.
        start = max((h.when() for h in self._in_flight), default=now) - now
        chunks = [frame[i : i + self.mtu] for i in range(0, len(frame), self.mtu)]
        items: list[bytes | None] = [*chunks, None] if then_drop else [*chunks]
        for index, item in enumerate(items, start=1):
            self._outbox.append(item)
            self._in_flight.append(
                loop.call_later(
                    start + self.notify_delay * index, self._send_next, notify
                )
            )

    def _send_next(self, notify: NotifyCallback) -> None:
        """Send the oldest notification on its way (None: drop the link)."""
        if not self._outbox:
            return
        item = self._outbox.popleft()
        if self._notify is not notify:
            return
        if item is None:
            self._drop_link()
        else:
            self.notified += 1
            notify(self.notify_handle, item)

    def _drop_link(self) -> None:
        drop = self._drop
        if drop is not None:
            drop()
