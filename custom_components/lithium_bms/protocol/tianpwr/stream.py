"""TianPower frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import FRAME_LENGTH, HEAD, REPLY, REPLY_TYPES, check_frame


class TianpwrRules(FrameRules):
    """Frames of 20 bytes by their ``55 14 <type>`` head and ``AA`` end.

    A candidate still short of bytes gives way to the first complete valid
    frame after it (a notification was lost).
    """

    name = "TianPower"
    starts = bytes((HEAD,))

    def length(self, buf: bytearray, pos: int) -> int | None:
        """20 where the reply byte and a known type follow the head, else 0."""
        if pos + 2 >= len(buf):
            return NEED_MORE
        known = buf[pos + 1] == REPLY and buf[pos + 2] in REPLY_TYPES
        return FRAME_LENGTH if known else 0

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


class TianpwrReassembler(Scanner):
    """The shared scanner with the TianPower rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(TianpwrRules())
