"""Saihang frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..codecs import modbus
from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import HEAD, check_frame

# A5 A5, address, function, byte count.
_PREFIX = 5


class SaihangRules(FrameRules):
    """Frames by ``A5 A5``, a register read's byte count and the CRC.

    A candidate short of bytes gives way to the first complete valid frame
    after it (a notification was lost).
    """

    name = "Saihang"
    starts = HEAD[:1]

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the frame that may start at ``pos``."""
        head = buf[pos : pos + _PREFIX]
        if head[1:2] not in (b"", HEAD[1:]):
            return 0
        if len(head) >= 4 and head[3] != modbus.READ_HOLDING:
            return 0
        if len(head) < _PREFIX:
            return NEED_MORE
        count = head[4]
        if count == 0 or count % 2:
            return 0
        return len(HEAD) + 5 + count

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


class SaihangReassembler(Scanner):
    """The shared scanner with Saihang's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(SaihangRules())
