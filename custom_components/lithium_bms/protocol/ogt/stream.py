"""Offgridtec replies rebuilt from notifications (shared scanner).

The scanner sees the bytes descrambled (XOR with the pack's key, see
:mod:`.frames`), so its frames are the plain ASCII lines.
"""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import ERROR, MAX_REPLY, REPLY, check_frame, scramble_table


class OgtRules(FrameRules):
    """Lines from ``+RD,`` to LF; ``+RD,Err`` alone (no source shows what follows).

    A candidate still short of bytes gives way to the first complete valid
    line after it (a truncated reply must not hold back the next one).
    """

    name = "Offgridtec"
    starts = REPLY[:1]

    def __init__(self, key: int) -> None:
        """Descramble with ``key``."""
        self._table = scramble_table(key)

    def clean(self, data: bytes) -> bytes:
        """The received bytes descrambled."""
        return data.translate(self._table)

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the line that may start at ``pos``."""
        head = bytes(buf[pos : pos + len(ERROR)])
        if not REPLY.startswith(head[: len(REPLY)]):
            return 0
        if head == ERROR:
            return len(ERROR)
        end = buf.find(b"\n", pos + len(REPLY), pos + MAX_REPLY)
        if end >= 0:
            return end + 1 - pos
        # No end within the longest reply: the candidate is refused whole.
        return NEED_MORE if len(buf) - pos < MAX_REPLY else MAX_REPLY

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid line after ``pos``."""
        return self.next_valid(buf, pos)


class OgtReassembler(Scanner):
    """The shared scanner with Offgridtec's rules and the pack's key."""

    def __init__(self, key: int) -> None:
        """Start with an empty buffer."""
        super().__init__(OgtRules(key))
