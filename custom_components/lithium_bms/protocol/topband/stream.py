"""Topband frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import ALL_HEX_DIGITS, HEADS, LENGTH, decode_status


class TopbandRules(FrameRules):
    """A head byte and 112 hex digits, then the sum and the content checks.

    Every byte that is no hex digit may head a frame, so a candidate ends at
    the first such byte: the next head (a frame cut short) or garbage.
    """

    name = "Topband"
    starts = HEADS

    def length(self, buf: bytearray, pos: int) -> int | None:
        """113 while every byte after the head is a hex digit, else 0."""
        end = min(len(buf), pos + LENGTH)
        if not ALL_HEX_DIGITS.fullmatch(buf, pos + 1, end):
            return 0
        return LENGTH if end == pos + LENGTH else NEED_MORE

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(decode_status, bytes(buf[pos : pos + length]))


class TopbandReassembler(Scanner):
    """The shared scanner with Topband's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(TopbandRules())
