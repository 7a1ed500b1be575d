"""TDT frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import HEAD, MAX_DATA, OVERHEAD, REPLY_HEAD, VERSIONS, check_frame


class TdtRules(FrameRules):
    """Frames by their ``7E <version>`` head, data length and CRC.

    A candidate still short of bytes is dropped as soon as a complete valid
    frame follows it (a truncated reply must not hold back the next one).
    """

    name = "TDT"
    starts = bytes((REPLY_HEAD,))

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the frame that may start at ``pos``."""
        if len(buf) - pos > 1 and buf[pos + 1] not in VERSIONS:
            return 0
        if len(buf) - pos < HEAD:
            return NEED_MORE
        size = int.from_bytes(buf[pos + 6 : pos + 8])
        return size + OVERHEAD if size <= MAX_DATA else 0

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


class TdtReassembler(Scanner):
    """The shared scanner with TDT's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(TdtRules())
