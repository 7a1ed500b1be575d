"""Super-B frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner
from .frames import LENGTH, START, is_frame


class SuperbRules(FrameRules):
    """A zero byte and 19 more that hold what a frame holds (no checksum).

    Without a checksum a refused candidate is no damaged frame, just bytes
    that start with a zero: :meth:`length` answers 0 for it, so the scan
    moves on without an error. A frame cut short (a lost notification)
    reaches 20 bytes with the next frame's, is refused and skipped.
    """

    name = "Super-B"
    starts = START

    def length(self, buf: bytearray, pos: int) -> int | None:
        """20 when the 20 bytes at ``pos`` are a frame, 0 when they are not."""
        if pos + LENGTH > len(buf):
            return NEED_MORE
        return LENGTH if is_frame(buf, pos) else 0

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """None: :meth:`length` answers 20 only for a valid frame."""
        return None


class SuperbReassembler(Scanner):
    """The shared scanner with Super-B's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(SuperbRules())
