"""Redodo frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import HEAD, KIND, MAGIC, MIN_LENGTH, check_frame

# Bytes that tell a candidate: 00 00 <len> 01 <command> 55 AA.
_PREFIX = 7


class RedodoRules(FrameRules):
    """Frames by their ``00 00 <len> 01 .. 55 AA`` head, length and sum.

    The fields hold many zero bytes, so a head is checked byte by byte before
    a length is trusted; a candidate still short of bytes is dropped as soon
    as a complete valid frame follows it.
    """

    name = "Redodo"
    starts = b"\x00"

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
    """0 when no frame starts at ``pos``, NEED_MORE while the head is short."""
    head = bytes(buf[pos : pos + _PREFIX])
    expected = (0x00, 0x00, None, KIND, None, MAGIC[0], MAGIC[1])
    for index, byte in enumerate(head):
        want = expected[index]
        if want is not None and byte != want:
            return 0
        if index == 2 and byte < MIN_LENGTH:
            return 0
    if len(head) < _PREFIX:
        return NEED_MORE
    return head[2] + HEAD + 1


class RedodoReassembler(Scanner):
    """The shared scanner with Redodo's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(RedodoRules())
