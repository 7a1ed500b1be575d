"""Where reassembled frames wait for the request that expects them."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from .errors import BmsError, BmsTimeoutError, ProtocolError

MAX_PENDING = 32


class FrameInbox:
    """Holds complete frames until a waiter takes the one it wants.

    Invalid candidate frames are remembered, so a request that times out after
    receiving only bad data reports that data error rather than a timeout.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._frames: deque[bytes] = deque(maxlen=MAX_PENDING)
        self._changed = asyncio.Event()
        self._last_error: ProtocolError | None = None
        self._failure: BmsError | None = None

    def clear(self) -> None:
        """Drop every pending frame and remembered error (before a request)."""
        self._frames.clear()
        self._last_error = None
        self._failure = None

    def fail(self, error: BmsError) -> None:
        """Wake every waiter with ``error`` (the link went down)."""
        self._failure = error
        self._changed.set()

    def put(self, frame: bytes) -> None:
        """Add a valid frame."""
        self._frames.append(frame)
        self._changed.set()

    def reject(self, error: ProtocolError) -> None:
        """Remember a frame that failed validation."""
        self._last_error = error

    def take(self, match: Callable[[bytes], bool]) -> bytes | None:
        """Remove and return the oldest frame that matches, if any."""
        for frame in self._frames:
            if match(frame):
                self._frames.remove(frame)
                return frame
        return None

    async def wait_for(self, match: Callable[[bytes], bool], timeout: float) -> bytes:
        """Wait for a matching frame; raise the last data error or a timeout."""
        frame = self.take(match)
        if frame is not None:
            # Already here (the answer came with the request's write): no timer.
            return frame
        try:
            async with asyncio.timeout(timeout):
                while (frame := self.take(match)) is None:
                    if self._failure is not None:
                        raise self._failure
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            # A stalled loop runs the deadline in the same turn as the frame
            # that arrived before it: that frame is an answer, not a timeout.
            if (frame := self.take(match)) is not None:
                return frame
            if self._last_error is not None:
                raise self._last_error from None
            raise BmsTimeoutError("no answer from the BMS") from None
        return frame
