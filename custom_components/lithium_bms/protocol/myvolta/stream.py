"""MyVolta frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import FrameRules, Scanner, refusal
from .frames import HEAD, check_frame, wire_length


class MyvoltaRules(FrameRules):
    """Frames from ``55 55`` to ``04 04``, unstuffed, by length and checksum.

    The kit relays a steady stream, so a frame cut short by a lost
    notification gives way to the next valid frame.
    """

    name = "MyVolta"
    starts = HEAD[:1]

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length on the air of the frame that may start at ``pos``."""
        return wire_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Drop a cut frame once a complete valid one follows."""
        return self.next_valid(buf, pos)


class MyvoltaReassembler(Scanner):
    """The shared scanner with MyVolta's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(MyvoltaRules())
