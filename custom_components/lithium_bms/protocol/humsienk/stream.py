"""Humsienk frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import HEAD, START, TRAILER, check_frame

# Every command the public register map names (aiobmsble
# ``docs/humsienk_bms.md``, ``tests/bms/test_humsienk_bms.py`` @
# b0567331025033d33729385fa89a1198275d6486): an AA before any other byte
# starts no frame.
COMMANDS = frozenset({0x00, 0x10, 0x11, 0x20, 0x21, 0x22, 0x23, 0x40, 0x58, 0xF5})


class HumsienkRules(FrameRules):
    """Frames by their ``AA <command> <len>`` head, length and 16-bit sum.

    A candidate still short of bytes is dropped as soon as a complete valid
    frame follows it (an AA inside data can announce up to 260 bytes).
    """

    name = "Humsienk"
    starts = bytes((START,))

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
    if buf[pos] != START:
        return 0
    if len(buf) - pos > 1 and buf[pos + 1] not in COMMANDS:
        return 0
    if len(buf) - pos < HEAD:
        return NEED_MORE
    return buf[pos + 2] + HEAD + TRAILER


class HumsienkReassembler(Scanner):
    """The shared scanner with Humsienk's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(HumsienkRules())
