"""ANT frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import HEAD, HEADER, TAIL, check_frame, frame_lengths


class AntRules(FrameRules):
    """Frames by their ``7E A1`` head, length byte, CRC and ``AA 55`` tail.

    A candidate still short of bytes is dropped as soon as a complete valid
    frame follows it (a lost notification must not hide the next reply).
    """

    name = "ANT"
    starts = HEAD[:1]

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the frame that may start at ``pos``."""
        return _candidate_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


def _candidate_length(buf: bytearray, pos: int) -> int | None:
    """0 when no frame starts at ``pos``, NEED_MORE while it cannot tell.

    That is while the head is short, or, for a reply that may be longer than
    its length byte says, while its shorter form is.
    """
    if len(buf) - pos < 2:
        return NEED_MORE
    if bytes(buf[pos : pos + 2]) != HEAD:
        return 0
    if len(buf) - pos < HEADER:
        return NEED_MORE
    shortest, *longer = frame_lengths(bytes(buf[pos : pos + HEADER]))
    if not longer:
        return shortest
    # Ends at the first length whose last two bytes are the tail.
    if len(buf) - pos < shortest:
        return NEED_MORE
    if buf[pos + shortest - 2 : pos + shortest] == TAIL:
        return shortest
    return longer[0]


class AntReassembler(Scanner):
    """The shared scanner with ANT's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(AntRules())
