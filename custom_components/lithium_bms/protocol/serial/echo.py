"""Dropping the echo of what was written (2-wire RS485 adapters hear it)."""

from __future__ import annotations


class EchoFilter:
    """Removes the bytes just written when they come back first.

    ``mode`` True: the adapter echoes; False: it does not; None: learnt from
    the first write whose echo is either heard whole (True) or contradicted
    (False). Bytes that only looked like the start of the echo are handed on.
    """

    def __init__(self, mode: bool | None = None) -> None:
        """Start with no write pending."""
        self.mode = mode
        self.dropped = 0
        self._expected = b""
        self._matched = 0

    def wrote(self, data: bytes) -> None:
        """Expect the echo of ``data`` (forgetting one that never came back)."""
        self._expected = b"" if self.mode is False else data
        self._matched = 0

    def reset(self) -> None:
        """Forget any pending echo (the port closed)."""
        self._expected = b""
        self._matched = 0

    def filter(self, chunk: bytes) -> bytes:
        """The part of ``chunk`` that is not the echo."""
        expected = self._expected
        if not expected:
            return chunk
        start = self._matched
        left = expected[start:]
        same = 0
        for ours, theirs in zip(left, chunk, strict=False):
            if ours != theirs:
                break
            same += 1
        if same == len(left):
            self._finish(echoed=True)
            self.dropped += len(expected)
            return chunk[same:]
        if same == len(chunk):
            self._matched += same
            return b""
        # The line disagrees with what was written.
        held = expected[:start] + chunk[:same]
        self._finish(echoed=False)
        if self.mode:
            # An echoing adapter: our own bytes were garbled (a collision).
            self.dropped += len(held)
            return chunk[same:]
        return held + chunk[same:]

    def _finish(self, *, echoed: bool) -> None:
        if self.mode is None:
            self.mode = echoed
        self._expected = b""
        self._matched = 0
