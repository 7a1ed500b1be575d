"""The one reassembly loop: frames rebuilt from a byte stream, whatever the family.

A family describes its frames with :class:`FrameRules` (which bytes may start a
frame, how long the candidate there is, whether it is valid) and the
:class:`Scanner` does the rest: it skips to the next start, waits for the
candidate's bytes, resumes one byte after a refused candidate (so garbage never
hides a frame), keeps its buffer bounded and drops consumed bytes in amortised
batches. Family-specific recovery lives in the hooks of :class:`FrameRules`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Final

from .errors import FrameError, ProtocolError

# The one "need more bytes" signal of :meth:`FrameRules.length` and
# :meth:`FrameRules.check`.
NEED_MORE: Final = None
# Bytes kept waiting for one candidate at most, far above any family's frame.
MAX_BUFFER = 4096

type Feed = tuple[list[bytes], list[ProtocolError]]


class FrameRules(ABC):
    """What a family tells the scanner about its frames; subclasses fill it in."""

    name: ClassVar[str]
    # Every byte a frame may start with.
    starts: ClassVar[bytes]

    @abstractmethod
    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the candidate at ``pos``: 0 for none, NEED_MORE to tell."""

    @abstractmethod
    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error that refuses the complete candidate, None when it is valid."""

    def waits(self, buf: bytearray, pos: int, length: int) -> bool:
        """Hook: whether a valid candidate waits for the bytes that follow it.

        Called right after :meth:`check` accepted the same candidate.
        """
        return False

    def clean(self, data: bytes) -> bytes:
        """Hook: the received bytes without the family's noise."""
        return data

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Hook: where to resume when the candidate at ``pos`` lacks bytes.

        None keeps waiting; an offset drops the candidate as incomplete.
        """
        return None

    def next_valid(self, buf: bytearray, pos: int) -> int | None:
        """Offset of the first complete valid candidate after ``pos``, if any.

        What :meth:`stalled` answers for a family whose candidate short of
        bytes must give way to the next reply (a notification was lost).
        """
        starts = self.starts
        for offset in range(pos + 1, len(buf)):
            if buf[offset] not in starts:
                continue
            length = self.length(buf, offset)
            if (
                length
                and offset + length <= len(buf)
                and self.check(buf, offset, length) is None
            ):
                return offset
        return None

    def appended(self, data: bytes) -> None:
        """Hook: bytes were added to the buffer."""

    def dropped(self, count: int) -> None:
        """Hook: the first ``count`` bytes of the buffer were dropped."""

    def reset(self) -> None:
        """Hook: the buffer was emptied."""


def refusal(check: Callable[[bytes], object], frame: bytes) -> ProtocolError | None:
    """The error ``check`` raises for ``frame``, None when it passes.

    What :meth:`FrameRules.check` answers for a family whose frame checker
    raises.
    """
    try:
        check(frame)
    except ProtocolError as err:
        return err
    return None


class Scanner:
    """Rebuilds one family's frames from chunks of bytes."""

    def __init__(self, rules: FrameRules) -> None:
        """Start with an empty buffer."""
        self.rules = rules
        self._starts = rules.starts
        self._start = re.compile(b"[" + re.escape(rules.starts) + b"]")
        self._buf = bytearray()
        self._pos = 0  # bytes before it are consumed

    def reset(self) -> None:
        """Drop any partial frame."""
        self._buf.clear()
        self._pos = 0
        self.rules.reset()

    @property
    def waiting(self) -> bool:
        """Whether any bytes are not consumed yet (:attr:`pending` without a copy)."""
        return len(self._buf) > self._pos

    @property
    def pending(self) -> bytes:
        """The bytes not consumed yet (a waiting candidate and what follows)."""
        return bytes(self._buf[self._pos :])

    def feed(self, data: bytes) -> Feed:
        """Add bytes; return the complete valid frames and the errors met."""
        rules = self.rules
        data = rules.clean(data)
        self._buf += data
        rules.appended(data)
        buf = self._buf
        pos = self._pos
        frames: list[bytes] = []
        errors: list[ProtocolError] = []
        while pos < len(buf):
            if buf[pos] not in self._starts:
                found = self._start.search(buf, pos)
                pos = found.start() if found else len(buf)
                continue
            length = rules.length(buf, pos)
            if length == 0:
                pos += 1
                continue
            if length is NEED_MORE or pos + length > len(buf):
                later = rules.stalled(buf, pos)
                if later is None:
                    break
                errors.append(FrameError(f"incomplete {rules.name} frame"))
                pos = later
                continue
            error = rules.check(buf, pos, length)
            if error is not None:
                errors.append(error)
                pos += 1
                continue
            if rules.waits(buf, pos, length):
                break
            frames.append(bytes(buf[pos : pos + length]))
            pos += length
        if len(buf) - pos > MAX_BUFFER:
            errors.append(FrameError(f"{rules.name} bytes overflowed the buffer"))
            pos = len(buf)
        self._pos = pos
        self._compact()
        return frames, errors

    def _compact(self) -> None:
        """Drop consumed bytes once they are at least half of the buffer.

        A compaction moves no more bytes than it drops, so its cost is spread
        over the bytes consumed.
        """
        pos = self._pos
        if 2 * pos < len(self._buf):
            return
        del self._buf[:pos]
        self.rules.dropped(pos)
        self._pos = 0
