"""Wired protocols: how a family speaks on a serial line, and the bus scan.

A family folder that speaks on a wire exports ``WIRED``: one
:class:`WiredProtocol` per way it does (JBD's ``DD A5`` frames, Daly's A5 and
D2 Modbus, …). The registry collects them; the config flow lists them, and a
bus entry stores the protocol's ``key``.

A scan first listens for ``listen_window`` seconds. When bytes come that
nobody asked for, another master owns the bus: a protocol that ``listens``
then reads every pack from the master's own traffic, and never sends. When
the line is quiet the scan asks each address in turn, as master.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from .client import BmsClient
from .driver import BmsDriver, DriverOptions
from .errors import BmsError, BusOwnedError
from .serial.bus import SerialBus
from .serial.port import PortSettings
from .serial.transport import SerialTransport
from .snapshot import BatterySnapshot, DeviceInfo

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WiredProtocol:
    """One way a family speaks on a serial line.

    ``addresses`` are the ones a scan asks, in order; ``reply_timeout`` is how
    long one reply may take (and how long the line stays a pack's after it);
    ``probe_timeout`` is how long a scan waits for the first byte from an
    address (what an absent pack costs: the request's time on the wire and
    the pack's latency);
    ``listen_window`` is the longest cycle of a master that owns the bus, for
    a protocol that ``listens``; ``variant`` is handed to the driver as its
    stored variant.
    """

    key: str
    driver: type[BmsDriver]
    baudrate: int
    addresses: tuple[int, ...]
    reply_timeout: float
    listens: bool = False
    listen_window: float = 1.0
    variant: str | None = None
    probe_timeout: float | None = None
    # The protocol's name as the flow and the bus device show it.
    title: str = ""

    @property
    def name(self) -> str:
        """The protocol's name, for people."""
        return self.title or self.key

    @property
    def short_name(self) -> str:
        """The name without the link in brackets ("PACE" of "PACE (RS485)")."""
        return self.name.split(" (", 1)[0]

    @property
    def scan_timeout(self) -> float:
        """How long a scan waits for an address's first byte."""
        return self.probe_timeout or self.reply_timeout

    @property
    def family(self) -> str:
        """The family the protocol belongs to."""
        return self.driver.family

    def settings(self, url: str, baudrate: int | None = None) -> PortSettings:
        """The line settings of ``url`` for this protocol (8N1)."""
        return PortSettings(url, baudrate or self.baudrate)


@dataclass(frozen=True, slots=True)
class FoundPack:
    """A pack that answered (or was heard) on the bus."""

    address: int
    info: DeviceInfo
    snapshot: BatterySnapshot

    @property
    def cells(self) -> int:
        """How many cells the pack reported."""
        return len(self.snapshot.cell_voltages)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scan found, and whether another master owns the bus.

    ``heard`` counts every byte on the line: bytes but no pack mean another
    protocol or another speed.
    """

    listening: bool
    packs: tuple[FoundPack, ...]
    heard: int = 0


def wired_client(
    bus: SerialBus,
    protocol: WiredProtocol,
    address: int,
    *,
    listen: bool,
    invert_current: bool = False,
    variant: str | None = None,
    memory: dict[str, bool | int | str | None] | None = None,
    timeout: float | None = None,
) -> BmsClient:
    """A session with the pack at ``address`` on ``bus`` (the link stays open).

    ``timeout`` replaces the protocol's reply timeout (a scan's shorter one).
    """
    reply_timeout = timeout or protocol.reply_timeout
    transport = SerialTransport(bus, hold=reply_timeout, listens=listen)
    driver = protocol.driver(
        transport,
        DriverOptions(
            address=f"{protocol.key}:{address}",
            invert_current=invert_current,
            variant=variant or protocol.variant,
            memory=memory,
            bus_address=address,
            listen=listen,
            reply_timeout=protocol.listen_window if listen else reply_timeout,
        ),
    )
    return BmsClient(driver, keep_connected=True)


class _Ear:
    """A member that only counts what it hears (is a master talking?)."""

    hold = 0.0
    listens = True

    def __init__(self) -> None:
        self.heard = 0

    def bus_data(self, data: bytes) -> None:
        self.heard += len(data)

    def bus_lost(self) -> None:
        """Nothing to do: the scan sees the failure itself."""


async def has_master(bus: SerialBus, window: float) -> bool:
    """Whether bytes come within ``window`` seconds while nobody here sends."""
    ear = _Ear()
    await bus.attach(ear)
    try:
        await asyncio.sleep(window)
    finally:
        await bus.detach(ear)
    return ear.heard > 0


async def _read(client: BmsClient) -> tuple[DeviceInfo, BatterySnapshot] | None:
    """Device info and one snapshot, or None when the pack does not answer.

    The snapshot first: an absent pack costs one reply timeout.
    """
    try:
        snapshot = await client.read_snapshot()
        return await client.read_device_info(), snapshot
    except BmsError as err:
        _LOGGER.debug("No pack at %s: %s", client.driver.options.address, err)
        return None
    finally:
        await client.close()


async def _probe(
    client: BmsClient, ear: _Ear, silence: float
) -> tuple[DeviceInfo, BatterySnapshot] | None:
    """Read the pack, unless not one byte comes within ``silence`` seconds.

    An absent pack costs ``silence``, not a whole reply timeout: a pack that
    is there starts its reply within its latency, and once bytes come the
    read runs to its end, bounded by the protocol's reply timeouts.
    """
    heard = ear.heard
    reading = asyncio.ensure_future(_read(client))
    done, _ = await asyncio.wait({reading}, timeout=silence)
    if not done and ear.heard == heard:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        await client.close()
        return None
    return await reading


async def scan_bus(
    bus: SerialBus,
    protocol: WiredProtocol,
    addresses: Sequence[int] | None = None,
    *,
    listen: bool | None = None,
) -> ScanResult:
    """Find the packs on ``bus``: by listening if a master owns it, else by asking.

    ``listen`` True: a master is known to own the bus (only listen); None:
    find out first. Raises :class:`SerialPortError` when the port cannot be
    opened, and :class:`BusOwnedError` when a master owns a bus whose
    protocol cannot listen.
    """
    wanted = tuple(addresses if addresses is not None else protocol.addresses)
    ear = _Ear()
    await bus.attach(ear)  # holds the port open through the whole scan
    try:
        if listen:
            master = True
        else:
            await asyncio.sleep(protocol.listen_window)
            master = ear.heard > 0
        if master and not protocol.listens:
            raise BusOwnedError("another master talks on the bus")
        clients = [wired_client(bus, protocol, a, listen=master) for a in wanted]
        if master:
            # Every listener hears the same cycle: read them side by side.
            results = await asyncio.gather(*(_read(c) for c in clients))
        else:
            results = [await _probe(c, ear, protocol.scan_timeout) for c in clients]
    finally:
        await bus.detach(ear)
    found = tuple(
        FoundPack(address, *result)
        for address, result in zip(wanted, results, strict=True)
        if result is not None
    )
    return ScanResult(listening=master, packs=found, heard=ear.heard)
