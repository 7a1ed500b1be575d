"""Sharing the connection slots of adapters and proxies among many packs.

A proxy has few slots (an ESPHome proxy has 3). A pack keeps its connection
only while the adapter or proxy holding it still has a free slot, so one slot
per proxy always rotates; a pack that finds no free slot waits, in turn with
the other packs behind the same proxies, until one of our links closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

# Longest wait for a slot before trying anyway (and failing as usual).
SLOT_WAIT = 30.0
# A slot freed by something other than our packs is noticed this fast.
SLOT_POLL = 1.0

DATA_ARBITER: HassKey[SlotArbiter] = HassKey(f"{DOMAIN}_slots")


class SlotArbiter:
    """Queues our connection attempts per set of adapters or proxies."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start with no queue."""
        self._hass = hass
        self._locks: dict[frozenset[str], asyncio.Lock] = {}
        self._released = asyncio.Event()
        self.waits = 0

    def _scanners(self, address: str) -> list[bluetooth.BluetoothScannerDevice]:
        return bluetooth.async_scanner_devices_by_address(
            self._hass, address, connectable=True
        )

    def has_free_slot(self, address: str) -> bool:
        """Whether an adapter or proxy that sees ``address`` can connect now."""
        for seen in self._scanners(address):
            allocations = seen.scanner.get_allocations()
            if allocations is None or allocations.free > 0:
                return True
        return False

    def holds_last_slot(self, address: str) -> bool:
        """Whether ``address`` is connected through a proxy with no slot free."""
        for scanner in bluetooth.async_current_scanners(self._hass):
            allocations = scanner.get_allocations()
            if (
                allocations is not None
                and address in allocations.allocated
                and allocations.free == 0
            ):
                return True
        return False

    @asynccontextmanager
    async def connecting(self, address: str) -> AsyncIterator[None]:
        """Wait for a free slot in turn, then hold the turn while connecting."""
        sources = frozenset(seen.scanner.source for seen in self._scanners(address))
        lock = self._locks.setdefault(sources, asyncio.Lock())
        async with lock:
            if not self.has_free_slot(address):
                self.waits += 1
                await self._wait_for_slot(address)
            yield

    async def _wait_for_slot(self, address: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SLOT_WAIT
        while not self.has_free_slot(address) and loop.time() < deadline:
            released = self._released
            try:
                async with asyncio.timeout(SLOT_POLL):
                    await released.wait()
            except TimeoutError:
                pass

    def released(self) -> None:
        """One of our links closed: wake every pack waiting for a slot."""
        self._released.set()
        self._released = asyncio.Event()


class SlotPolicy:
    """The :class:`LinkPolicy` of one pack."""

    def __init__(self, arbiter: SlotArbiter, address: str) -> None:
        """Bind to the shared arbiter."""
        self._arbiter = arbiter
        self._address = address

    def connecting(self) -> AbstractAsyncContextManager[None]:
        """Wait for a slot before connecting."""
        return self._arbiter.connecting(self._address)

    def keep(self) -> bool:
        """Keep the link unless it took the last free slot of its proxy."""
        return not self._arbiter.holds_last_slot(self._address)

    def released(self) -> None:
        """Tell the packs that wait for a slot."""
        self._arbiter.released()


def slot_policy(hass: HomeAssistant, address: str) -> SlotPolicy:
    """The link policy of one pack, sharing this instance's arbiter."""
    arbiter = hass.data.get(DATA_ARBITER)
    if arbiter is None:
        arbiter = hass.data[DATA_ARBITER] = SlotArbiter(hass)
    return SlotPolicy(arbiter, address.upper())
