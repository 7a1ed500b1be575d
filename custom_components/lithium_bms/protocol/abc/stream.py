"""ABC-BMS frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import FRAME_LENGTH, REPLY_HEAD, REPLY_TYPES, check_frame


class AbcRules(FrameRules):
    """Frames of 20 bytes by their ``CC <type>`` head and CRC-8.

    A candidate still short of bytes gives way to the first complete valid
    frame after it (a notification was lost).
    """

    name = "ABC-BMS"
    starts = bytes((REPLY_HEAD,))

    def length(self, buf: bytearray, pos: int) -> int | None:
        """20 where a known reply type follows the head, else 0."""
        if pos + 1 >= len(buf):
            return NEED_MORE
        return FRAME_LENGTH if buf[pos + 1] in REPLY_TYPES else 0

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


class AbcReassembler(Scanner):
    """The shared scanner with the ABC-BMS rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(AbcRules())
