"""One BMS session: connection lifecycle, serialised operations, statistics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Protocol

from .driver import BmsDriver, DriverOptions
from .errors import BmsConnectionError, BmsError, BmsTimeoutError
from .plausibility import CountGuard, ImplausibleDataError, check
from .snapshot import BatterySnapshot, DeviceInfo, SwitchKind

_LOGGER = logging.getLogger(__name__)

FRAME_LOG_SIZE = 24


@dataclass(slots=True)
class ConnectionStats:
    """Counters shown in diagnostics."""

    connects: int = 0
    connect_failures: int = 0
    lost_connections: int = 0
    reads: int = 0
    read_failures: int = 0
    commands: int = 0
    command_failures: int = 0
    last_error: str | None = None
    last_read_duration: float | None = None
    implausible_snapshots: int = 0
    last_implausible: str | None = None
    errors_by_type: dict[str, int] = field(default_factory=dict)


class LinkPolicy(Protocol):
    """Shares scarce connection slots among sessions (e.g. of one proxy)."""

    def connecting(self) -> AbstractAsyncContextManager[object]:
        """Entered around each connection attempt (may wait for a slot)."""

    def keep(self) -> bool:
        """Whether the link may stay open after an operation."""

    def released(self) -> None:
        """The link closed, so its slot is free again."""


def oriented(snapshot: BatterySnapshot, options: DriverOptions) -> BatterySnapshot:
    """The snapshot with the current's sign the user chose, for every family."""
    if not options.invert_current:
        return snapshot
    return replace(snapshot, current=-snapshot.current)


class BmsClient:
    """Runs a driver over its transport, one operation at a time.

    It connects on demand, keeps the link open between operations when asked
    to (and while the optional :class:`LinkPolicy` allows it), and closes it
    otherwise; every failure surfaces as a :class:`BmsError`. Options common
    to every family (invert current) apply here. Every snapshot
    passes the plausibility gate first: an implausible one is counted and
    raised as :class:`ImplausibleDataError`, never returned.
    """

    def __init__(
        self,
        driver: BmsDriver,
        *,
        keep_connected: bool = True,
        policy: LinkPolicy | None = None,
    ) -> None:
        """Wrap a driver."""
        self.driver = driver
        self.keep_connected = keep_connected
        self.policy = policy
        self.stats = ConnectionStats()
        # Sent payloads and reassembled frames received, newest last.
        self.frame_log: deque[tuple[str, str]] = deque(maxlen=FRAME_LOG_SIZE)
        self._lock = asyncio.Lock()
        self._connected = False
        self._counts = CountGuard()
        self._pack_counts: dict[int, CountGuard] = {}
        self.reported_packs: dict[int, BatterySnapshot | None] = {}
        driver.on_send = self._on_send
        driver.on_frame = self._on_frame

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._connected and self.driver.transport.is_connected

    async def read_snapshot(self) -> BatterySnapshot:
        """Read one snapshot."""
        started = time.monotonic()
        result = await self._run(
            lambda: self._plausible(self.driver.read_snapshot()), "read"
        )
        self.reported_packs = {
            number: None if snapshot is None else self._gated(number, snapshot)
            for number, snapshot in self.driver.reported_packs.items()
        }
        self.stats.last_read_duration = round(time.monotonic() - started, 4)
        return result

    async def read_device_info(self) -> DeviceInfo:
        """Read the device information."""
        return await self._run(self.driver.read_device_info, "read")

    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Switch and return the confirming snapshot."""
        return await self._run(
            lambda: self._plausible(self.driver.set_switch(kind, on)), "command"
        )

    async def _plausible(self, reading: Awaitable[BatterySnapshot]) -> BatterySnapshot:
        """The snapshot, once the plausibility gate passed it."""
        snapshot = oriented(await reading, self.driver.options)
        try:
            check(snapshot, self.driver.limits)
            self._counts.check(snapshot)
        except ImplausibleDataError as err:
            self.stats.implausible_snapshots += 1
            self.stats.last_implausible = str(err)
            raise
        return snapshot

    def _gated(self, number: int, snapshot: BatterySnapshot) -> BatterySnapshot | None:
        """Another pack of a master's bank through the gate; None if implausible."""
        snapshot = oriented(snapshot, self.driver.options)
        try:
            check(snapshot, self.driver.limits)
            self._pack_counts.setdefault(number, CountGuard()).check(snapshot)
        except ImplausibleDataError as err:
            self.stats.implausible_snapshots += 1
            self.stats.last_implausible = f"pack {number}: {err}"
            return None
        return snapshot

    async def close(self) -> None:
        """Disconnect (waits for a running operation to end)."""
        async with self._lock:
            await self._disconnect()

    async def _run[T](self, operation: Callable[[], Awaitable[T]], kind: str) -> T:
        async with self._lock:
            if kind == "read":
                self.stats.reads += 1
            else:
                self.stats.commands += 1
            try:
                await self._ensure_connected()
                return await operation()
            except BmsError as err:
                self._count_error(err, kind)
                if isinstance(err, (BmsTimeoutError, BmsConnectionError)):
                    await self._disconnect()
                raise
            finally:
                if not self.keep_connected or (
                    self.policy is not None and not self.policy.keep()
                ):
                    await self._disconnect()

    def _count_error(self, err: BmsError, kind: str) -> None:
        if kind == "read":
            self.stats.read_failures += 1
        else:
            self.stats.command_failures += 1
        name = type(err).__name__
        self.stats.errors_by_type[name] = self.stats.errors_by_type.get(name, 0) + 1
        self.stats.last_error = f"{name}: {err}"

    async def _ensure_connected(self) -> None:
        if self.is_connected:
            return
        await self._disconnect()
        self.driver.reset()
        self._counts.reset()
        self._pack_counts.clear()
        gate = self.policy.connecting() if self.policy is not None else nullcontext()
        try:
            async with gate:
                await self.driver.transport.connect(self._on_data, self._on_disconnect)
        except BmsError:
            self.stats.connect_failures += 1
            raise
        self._connected = True
        self.stats.connects += 1
        try:
            if self.driver.connect_delay:
                await asyncio.sleep(self.driver.connect_delay)
            await self.driver.initialize()
        except BaseException:
            # A session whose start-up failed must not be reused as it is.
            await self._disconnect()
            raise

    async def _disconnect(self) -> None:
        was_up = self.driver.transport.is_connected
        self._connected = False
        await self.driver.transport.disconnect()
        self.driver.disconnected()
        if was_up and self.policy is not None:
            self.policy.released()

    def _on_send(self, data: bytes) -> None:
        self._log_frame("tx", data)

    def _on_frame(self, frame: bytes) -> None:
        self._log_frame("rx", frame)

    def _log_frame(self, direction: str, frame: bytes) -> None:
        """Keep a frame for diagnostics; one that carries secrets only by size."""
        if self.driver.is_sensitive(frame):
            self.frame_log.append((direction, f"redacted ({len(frame)} bytes)"))
        else:
            self.frame_log.append((direction, frame.hex()))

    def _on_data(self, data: bytes) -> None:
        self.driver.feed(data)

    def _on_disconnect(self) -> None:
        if self._connected:
            self.stats.lost_connections += 1
            _LOGGER.debug("Connection to the BMS lost")
        self._connected = False
        if self.policy is not None:
            self.policy.released()
        self.driver.disconnected()
        self.driver.inbox.fail(BmsConnectionError("the BMS disconnected"))
