"""The interface every BMS family driver implements."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from .errors import BusOwnedError, CommandNotConfirmedError, ProtocolError
from .inbox import FrameInbox
from .matching import Advertisement, AdvertisementMatcher
from .plausibility import DEFAULT_LIMITS, Limits
from .snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from .transport import GattProfile, Transport

type FrameMatcher = Callable[[bytes], bool]
# What a driver keeps across restarts: JSON-friendly values by name.
type DriverMemory = Mapping[str, bool | int | str | None]


class Reassembler(Protocol):
    """Rebuilds a family's frames from the transport's chunks of bytes."""

    def feed(self, data: bytes) -> tuple[list[bytes], list[ProtocolError]]:
        """Add bytes; return complete valid frames and the errors met."""

    def reset(self) -> None:
        """Drop any partial frame."""


@dataclass(frozen=True, slots=True)
class DriverOptions:
    """Per-device settings a driver may need."""

    address: str = ""
    password: str | None = None
    # Applied by the client to every family's snapshot, not by the driver.
    invert_current: bool = False
    variant: str | None = None
    # The driver's ``memory`` as saved before the last restart.
    memory: DriverMemory | None = None
    # On a wired bus: the pack's address, whether another master owns the
    # bus (the driver then only listens and never sends), and the reply
    # timeout of the wired protocol (replacing ``request_timeout``).
    bus_address: int | None = None
    listen: bool = False
    reply_timeout: float | None = None
    # The advertised local name, for a family whose variants it tells apart.
    name: str | None = None


class BmsDriver(ABC):
    """Speaks one BMS family's protocol over a :class:`Transport`.

    Subclasses declare their GATT layout, advertisement matchers and switches,
    feed received bytes through their reassembler into ``self.inbox``, and
    implement the reads and the confirmed switch command.
    """

    family: ClassVar[str]
    manufacturer: ClassVar[str]
    # How the config flow lists the family among the supported protocols
    # (the manufacturer when empty).
    brand: ClassVar[str] = ""
    gatt: ClassVar[tuple[GattProfile, ...]]
    matchers: ClassVar[tuple[AdvertisementMatcher, ...]]
    switches: ClassVar[frozenset[SwitchKind]] = frozenset()
    connect_delay: ClassVar[float] = 0.0
    # Seconds a reply may take (a wired protocol's ``reply_timeout`` replaces it).
    request_timeout: float = 5.0
    # Seconds between a switch command and the read that confirms it.
    switch_settle: float = 0.0
    # A full-match regular expression for the family's Bluetooth password, or
    # None when the family has no password (the options flow checks it).
    password_pattern: ClassVar[str | None] = None
    # What a real pack of the family can report (the plausibility gate).
    limits: ClassVar[Limits] = DEFAULT_LIMITS
    # Where the family's claim on an advertisement is tried, lowest first: a
    # more specific family comes before one whose matchers it could overlap.
    claim_order: ClassVar[int] = 100
    # The protocol variants the family speaks, as stored in a config entry.
    variants: ClassVar[tuple[str, ...]] = ()
    # Families the same brand also ships under a name this family claims:
    # when the user confirms a discovered device and this family's probe
    # fails, the config flow probes these, in order.
    probe_also: ClassVar[tuple[str, ...]] = ()

    def __init__(self, transport: Transport, options: DriverOptions) -> None:
        """Bind the driver to its transport."""
        self.transport = transport
        self.options = options
        # The variant stored by an earlier session, when the family has it.
        self.stored_variant = (
            options.variant if options.variant in self.variants else None
        )
        if options.reply_timeout is not None:
            self.request_timeout = options.reply_timeout
        self.inbox = FrameInbox()
        self.reassembler = self.new_reassembler()
        self.on_send: Callable[[bytes], None] | None = None
        self.on_frame: Callable[[bytes], None] | None = None

    @classmethod
    def claims(cls, adv: Advertisement) -> bool:
        """Whether an advertisement belongs to this family."""
        return any(m.matches(adv) for m in cls.matchers)

    @property
    def variant(self) -> str | None:
        """The protocol variant in use, once known (persisted by the caller)."""
        return None

    @property
    def reported_packs(self) -> Mapping[int, BatterySnapshot | None]:
        """The other packs of a master pack's bank, by pack number.

        Read with the master's own snapshot; None for a pack the master
        counts that did not answer. Empty for a BMS that is no master.
        """
        return {}

    @property
    def memory(self) -> DriverMemory:
        """State the BMS cannot report that must survive a restart.

        The caller saves it when it changes and passes it back through
        :attr:`DriverOptions.memory`; a driver validates what it gets back.
        """
        return {}

    @abstractmethod
    def new_reassembler(self) -> Reassembler:
        """The family's reassembler (one per driver)."""

    def feed(self, data: bytes) -> None:
        """Take bytes received from the transport; frames go to the inbox."""
        self.deliver(*self.reassembler.feed(data))

    def deliver(self, frames: list[bytes], errors: list[ProtocolError]) -> None:
        """Hand reassembled frames to the frame tap and the inbox."""
        for error in errors:
            self.inbox.reject(error)
        for frame in frames:
            if self.on_frame is not None:
                self.on_frame(frame)
            self.inbox.put(frame)

    def is_sensitive(self, frame: bytes) -> bool:
        """Whether a frame (sent or received) carries secrets.

        Authentication exchanges, passcodes and serial numbers: such frames are
        never kept in the diagnostics frame log.
        """
        return False

    def reset(self) -> None:
        """Forget partial frames and per-connection state (on every connect)."""
        self.inbox.clear()
        self.reassembler.reset()

    def disconnected(self) -> None:
        """The connection ended: stop the session's timers (no timer outlives it)."""

    async def initialize(self) -> None:
        """Run the family's start-up sequence after each connect."""

    @abstractmethod
    async def read_device_info(self) -> DeviceInfo:
        """Read model, versions and serial number."""

    @abstractmethod
    async def read_snapshot(self) -> BatterySnapshot:
        """Read one complete snapshot of the battery."""

    @abstractmethod
    async def set_switch(self, kind: SwitchKind, on: bool) -> BatterySnapshot:
        """Switch, then return a fresh snapshot that confirms the new state.

        Raises :class:`CommandNotConfirmedError` if the read-back disagrees.
        """

    async def send(self, payload: bytes) -> None:
        """Write bytes to the BMS (the client taps them for diagnostics).

        Raises :class:`BusOwnedError` when the driver only listens.
        """
        if self.options.listen:
            raise BusOwnedError("another master owns the bus: listening only")
        if self.on_send is not None:
            self.on_send(payload)
        await self.transport.write(payload)

    async def write_then_confirm[T](
        self,
        requests: Iterable[bytes],
        read_back: Callable[[], Awaitable[T]],
        confirmed: Callable[[T], bool],
        refusal: str,
    ) -> T:
        """Write a command that is answered by no value, then read it back.

        After ``switch_settle`` seconds, ``read_back``'s result must satisfy
        ``confirmed``; else :class:`CommandNotConfirmedError` with ``refusal``.
        """
        try:
            for request in requests:
                await self.send(request)
        finally:
            self.transport.release()
        await asyncio.sleep(self.switch_settle)
        after = await read_back()
        if not confirmed(after):
            raise CommandNotConfirmedError(refusal)
        return after

    async def exchange(
        self,
        payload: bytes,
        expect: FrameMatcher,
        timeout: float | None = None,
    ) -> bytes:
        """Send one request and wait for the frame it expects."""
        self.inbox.clear()
        await self.send(payload)
        try:
            return await self.inbox.wait_for(expect, timeout or self.request_timeout)
        finally:
            self.transport.release()
