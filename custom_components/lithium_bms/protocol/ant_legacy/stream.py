"""ANT legacy frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import HEAD, LENGTH, check_frame


class AntLegacyRules(FrameRules):
    """Frames by their ``AA 55 AA FF`` head, fixed length and 16-bit sum.

    A candidate still short of bytes is dropped as soon as a complete valid
    frame follows it (a lost notification must not hide the next reply).
    """

    name = "ANT legacy"
    starts = HEAD[:1]

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the frame that may start at ``pos``."""
        return _candidate_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Offset of the first complete valid frame after ``pos``."""
        for offset in range(pos + 1, len(buf) - LENGTH + 1):
            if (
                _candidate_length(buf, offset) == LENGTH
                and self.check(buf, offset, LENGTH) is None
            ):
                return offset
        return None


def _candidate_length(buf: bytearray, pos: int) -> int | None:
    """0 when no frame starts at ``pos``, NEED_MORE while the head is short."""
    head = bytes(buf[pos : pos + len(HEAD)])
    if not HEAD.startswith(head):
        return 0
    if len(head) < len(HEAD):
        return NEED_MORE
    return LENGTH


class AntLegacyReassembler(Scanner):
    """The shared scanner with the legacy ANT rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(AntLegacyRules())
