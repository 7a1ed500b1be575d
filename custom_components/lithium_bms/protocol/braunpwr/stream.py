"""Braun Power frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import COMMANDS, HEAD, OVERHEAD, check_frame


class BraunRules(FrameRules):
    """Frames by their ``7B <command> <len>`` head, length and ``7D`` tail.

    With no checksum, a ``7B`` in the data can pose as a head: a candidate
    still short of bytes is dropped as soon as a complete valid frame
    follows it.
    """

    name = "Braun Power"
    starts = bytes((HEAD,))

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
    head = bytes(buf[pos : pos + 3])
    if head[:1] != bytes((HEAD,)) or (len(head) > 1 and head[1] not in COMMANDS):
        return 0
    if len(head) < 3:
        return NEED_MORE
    return head[2] + OVERHEAD


class BraunReassembler(Scanner):
    """The shared scanner with Braun Power's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(BraunRules())
