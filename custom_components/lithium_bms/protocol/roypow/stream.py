"""RoyPow frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import HEAD, MIN_LENGTH, MODULE_MESSAGE, check_frame


class RoyPowRules(FrameRules):
    """Frames by their ``EA D1 01 <len>`` head, length, F5 tail and XOR.

    The BLE module's ``AT+STAT`` message is dropped wherever a notification
    carries it; a candidate still short of bytes is dropped as soon as a
    complete valid frame follows it.
    """

    name = "RoyPow"
    starts = HEAD[:1]

    def clean(self, data: bytes) -> bytes:
        """The notification without the module's own message."""
        return data.replace(MODULE_MESSAGE, b"")

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
    head = bytes(buf[pos : pos + len(HEAD) + 1])
    if not HEAD.startswith(head[: len(HEAD)]):
        return 0
    if len(head) <= len(HEAD):
        return NEED_MORE
    if head[-1] < MIN_LENGTH:
        return 0
    return head[-1] + len(HEAD) + 1


class RoyPowReassembler(Scanner):
    """The shared scanner with RoyPow's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(RoyPowRules())
