"""Neey frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import HEAD, MAX_LENGTH, MIN_LENGTH, REPLY_HEAD, check_frame


class NeeyRules(FrameRules):
    """Frames by their ``55 AA 11 01 <type> 00`` head, length word and sum.

    The Bluetooth module's ``AT`` line and the app acknowledgement
    ``AA 55 90 EB ..`` (both in aiobmsble's Neey test) do not start with this
    head and are skipped.
    """

    name = "Neey"
    starts = REPLY_HEAD[:1]

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the frame that may start at ``pos``."""
        head = bytes(buf[pos : pos + HEAD])
        if not REPLY_HEAD.startswith(head[:4]) or (len(head) > 5 and head[5] != 0):
            return 0
        if len(head) < HEAD:
            return NEED_MORE
        total = int.from_bytes(head[6:8], "little")
        return total if MIN_LENGTH <= total <= MAX_LENGTH else 0

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))


class NeeyReassembler(Scanner):
    """The shared scanner with Neey's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(NeeyRules())
