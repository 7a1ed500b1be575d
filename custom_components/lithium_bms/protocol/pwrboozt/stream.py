"""PowerBoozt frames rebuilt from notifications (shared scanner).

The BLE module may put ``AT`` and CR LF before a reply and NUL bytes inside
and after it [A] (see :mod:`.frames`): the NULs are dropped, the scanner skips
anything else before a ``:``.
"""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .frames import END, HEAD_CHARS, HEX_DIGITS, START, check_frame, frame_length


class PwrbooztRules(FrameRules):
    """Frames by their ``:`` head, the length it states, ``~`` and the checksum.

    ``:`` and ``~`` never occur inside a frame, so a candidate that waits for
    bytes is dropped as soon as a ``:`` or ``~`` arrives before its end.
    """

    name = "PowerBoozt"
    starts = START

    def clean(self, data: bytes) -> bytes:
        """The bytes without NULs (never part of an ASCII frame)."""
        return data.replace(b"\x00", b"")

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the frame that may start at ``pos``."""
        head = bytes(buf[pos : pos + HEAD_CHARS])
        if not HEX_DIGITS.issuperset(head[1:]):
            return 0
        if len(head) < HEAD_CHARS:
            return NEED_MORE
        return frame_length(head)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Where the next frame may start, once a ``:`` or ``~`` cut this one."""
        for offset in range(pos + 1, len(buf)):
            byte = buf[offset]
            if byte == START[0]:
                return offset
            if byte == END[0]:
                return offset + 1
        return None


class PwrbooztReassembler(Scanner):
    """The shared scanner with PowerBoozt's rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(PwrbooztRules())
