"""One owner per serial port: the bus that its addressed transports share.

Packs on one RS485 line answer only when asked, one at a time. The bus gives
the line to one transport at a time (a *turn*): a transport's write waits for
the turn, then for the inter-frame gap since the last byte on the line. The
turn ends ``hold`` seconds after the owner's last write or received byte (the
protocol's reply timeout), or when the owner releases it. Received bytes go to
the owner of the turn only, without the echo of what was written; bytes
outside any turn are dropped, except for *listeners*: members that never send
(another master owns the line) and hear every byte on it. When the port
vanishes every transport is told, and the next connect opens it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ..errors import BmsConnectionError, BusOwnedError, PortBusyError
from .echo import EchoFilter
from .port import DataHandler, LostHandler, PortSettings, open_port

_LOGGER = logging.getLogger(__name__)

# Modbus RTU: 3.5 characters of silence, at least 1.75 ms above 19200 baud.
MIN_GAP = 0.00175
# How long a close may take to report itself before the port counts as free.
CLOSE_TIMEOUT = 1.0
BITS_PER_CHARACTER = 11

type Opener = Callable[
    [PortSettings, DataHandler, LostHandler], Awaitable[asyncio.WriteTransport]
]


def frame_gap(baudrate: int) -> float:
    """The silence that separates two frames at ``baudrate``."""
    return max(MIN_GAP, 3.5 * BITS_PER_CHARACTER / baudrate)


class BusMember(Protocol):
    """What the bus needs of a transport that shares it."""

    hold: float
    listens: bool

    def bus_data(self, data: bytes) -> None:
        """Bytes received during the member's turn."""

    def bus_lost(self) -> None:
        """The port closed under the member."""


@dataclass(slots=True)
class BusStats:
    """Counters for diagnostics."""

    opens: int = 0
    losses: int = 0
    stray_bytes: int = 0
    echo_bytes: int = 0


class SerialBus:
    """Owns one serial port; its members take turns on the line."""

    def __init__(
        self,
        settings: PortSettings,
        *,
        echo: bool | None = None,
        gap: float | None = None,
        opener: Opener = open_port,
    ) -> None:
        """Remember the port; it opens when the first member connects."""
        self.settings = settings
        self.gap = frame_gap(settings.baudrate) if gap is None else gap
        self.stats = BusStats()
        self._echo = EchoFilter(echo)
        self._opener = opener
        self._port: asyncio.WriteTransport | None = None
        self._opening = asyncio.Lock()
        self._turn = asyncio.Lock()
        self._owner: BusMember | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self._members: set[BusMember] = set()
        self._quiet_at = 0.0  # when the line last fell silent (monotonic)
        self._generation = 0  # which opening of the port is the current one
        self._closed: asyncio.Future[None] | None = None  # a close under way

    @property
    def is_open(self) -> bool:
        """Whether the port is open."""
        return self._port is not None and not self._port.is_closing()

    @property
    def echo(self) -> bool | None:
        """Whether the adapter echoes (None until it is learnt)."""
        return self._echo.mode

    async def attach(self, member: BusMember) -> None:
        """Add a member, opening the port if needed."""
        await self._ensure_open()
        self._members.add(member)

    async def detach(self, member: BusMember) -> None:
        """Remove a member; the last one out closes the port."""
        self._members.discard(member)
        self.release(member)
        if not self._members:
            await self.close()

    @property
    def heard_at(self) -> float:
        """When the last byte was heard or sent (monotonic)."""
        return self._quiet_at

    async def send(self, member: BusMember, data: bytes) -> None:
        """Write ``data`` in ``member``'s turn, after the inter-frame gap."""
        if member.listens:
            raise BusOwnedError("a listener may not send on the bus")
        if self._owner is not member:
            await self._turn.acquire()
            self._owner = member
        try:
            port = await self._ensure_open()
            await self._wait_quiet()
            self._echo.wrote(data)
            port.write(data)
        except BaseException:
            self.release(member)
            raise
        airtime = len(data) * BITS_PER_CHARACTER / self.settings.baudrate
        self._quiet_at = time.monotonic() + airtime
        self._arm(member, airtime)

    def release(self, member: BusMember) -> None:
        """End ``member``'s turn now (no reply is awaited any more)."""
        if self._owner is not member:
            return
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self._owner = None
        self._turn.release()

    async def close(self) -> None:
        """Close the port (members stay attached and reopen it on send)."""
        if self._owner is not None:
            self.release(self._owner)
        port, self._port = self._port, None
        self._generation += 1  # its connection_lost is no loss
        self._echo.reset()
        if port is None:
            return
        closed = self._closed = asyncio.get_running_loop().create_future()
        port.close()
        # The port is free for the next owner only once it reported its close.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await closed

    async def _ensure_open(self) -> asyncio.WriteTransport:
        async with self._opening:
            if self._port is None or self._port.is_closing():
                self._generation += 1
                generation = self._generation

                def lost(exc: Exception | None) -> None:
                    self._lost(exc, generation)

                self._port = await self._opener(self.settings, self._received, lost)
                self.stats.opens += 1
                self._quiet_at = time.monotonic()
            return self._port

    async def _wait_quiet(self) -> None:
        # A loop, not an event: the deadline moves while bytes keep arriving.
        while (wait := self._quiet_at + self.gap - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)

    def _arm(self, member: BusMember, extra: float = 0.0) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(member.hold + extra, self.release, member)

    def _received(self, data: bytes) -> None:
        self._quiet_at = time.monotonic()
        before = self._echo.dropped
        data = self._echo.filter(data)
        self.stats.echo_bytes += self._echo.dropped - before
        if not data:
            return
        heard = False
        for member in list(self._members):
            if member.listens:
                heard = True
                member.bus_data(data)
        owner = self._owner
        if owner is None:
            if not heard:
                self.stats.stray_bytes += len(data)
            return
        self._arm(owner)
        owner.bus_data(data)

    def _lost(self, exc: Exception | None, generation: int) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        if generation != self._generation:
            return
        if exc is not None:
            _LOGGER.debug("Serial port %s lost: %s", self.settings.url, exc)
        self.stats.losses += 1
        self._port = None
        self._echo.reset()
        if self._owner is not None:
            self.release(self._owner)
        for member in list(self._members):
            member.bus_lost()


_BUSES: dict[str, SerialBus] = {}


def shared_bus(settings: PortSettings, *, echo: bool | None = None) -> SerialBus:
    """The one bus of ``settings.url`` (created on first use).

    A second caller asking for other line settings gets :class:`PortBusyError`:
    one port cannot run at two speeds.
    """
    bus = _BUSES.get(settings.url)
    if bus is None:
        bus = _BUSES[settings.url] = SerialBus(settings, echo=echo)
    elif bus.settings != settings:
        raise PortBusyError(f"{settings.url} is already in use with other settings")
    return bus


def forget_bus(bus: SerialBus) -> None:
    """Drop a closed bus from the shared ones."""
    if bus.is_open:
        raise BmsConnectionError("the bus is still open")
    if _BUSES.get(bus.settings.url) is bus:
        del _BUSES[bus.settings.url]
