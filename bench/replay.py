"""Replaying recorded notifications, to time the protocol code alone."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from bms_simulator.link import Exchange
from custom_components.lithium_bms.protocol.transport import (
    DataCallback,
    DisconnectCallback,
    Transport,
)


class ReplayTransport(Transport):
    """Answers the n-th write of a cycle with the n-th recorded reply chunks.

    Replies are fed synchronously, so an update costs only the driver's own
    work: building requests, reassembly, validation and decoding.
    """

    def __init__(
        self, recording: list[Exchange], feed: Callable[[bytes], None]
    ) -> None:
        """Replay ``recording`` into ``feed`` (a driver's ``feed``)."""
        self._recording = recording
        self._feed = feed
        self._next = 1

    @property
    def is_connected(self) -> bool:
        """Always up."""
        return True

    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        """Nothing to do: replies go straight to the driver."""

    def rewind(self) -> None:
        """Start a cycle: feed the notifications that came before any write."""
        self._next = 1
        for chunk in self._recording[0].replies:
            self._feed(chunk)

    async def write(self, data: bytes) -> None:
        """Feed the replies recorded after the matching write."""
        exchange = self._recording[self._next]
        self._next += 1
        for chunk in exchange.replies:
            self._feed(chunk)

    async def disconnect(self) -> None:
        """Nothing to do."""


# Cycles timed between two checks of their results.
BATCH = 100


async def time_cycles(
    cycle: Callable[[], Awaitable[object]], replays: int, expected: object
) -> float:
    """CPU microseconds per ``cycle``; every result must equal ``expected``.

    Results are compared after each batch, outside the timing, so the figure
    is the decode alone, not the benchmark's comparison of what it decoded.
    """
    spent = 0.0
    done = 0
    while done < replays:
        batch = min(BATCH, replays - done)
        started = time.process_time()
        results = [await cycle() for _ in range(batch)]
        spent += time.process_time() - started
        if any(result != expected for result in results):
            raise AssertionError("the replay decoded otherwise than the live update")
        done += batch
    return round(spent / replays * 1e6, 1)
