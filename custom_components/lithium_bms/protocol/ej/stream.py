"""E&J frames rebuilt from notifications (shared scanner).

A frame arrives in 20-byte notifications or glued to the next one; the BLE
module may put ``AT`` and CR LF in front [A] (see :mod:`.frames`), which the
scanner skips as it skips any byte before a ``:``.
"""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner
from .frames import END, HEAD_CHARS, HEX_DIGITS, START, check_frame, frame_length


class EjRules(FrameRules):
    """Frames by their ``:`` head, the length it states, ``~`` and the checksum.

    ``:`` and ``~`` never occur inside a frame, so a candidate that waits for
    bytes is dropped as soon as a ``:`` or ``~`` arrives before its end.
    """

    name = "E&J"
    starts = START

    def __init__(self, *, verify_checksum: bool) -> None:
        """Check checksums unless the pack is known to send wrong ones."""
        self.verify_checksum = verify_checksum

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
        try:
            check_frame(
                bytes(buf[pos : pos + length]), verify_checksum=self.verify_checksum
            )
        except ProtocolError as err:
            return err
        return None

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Where the next frame may start, once a ``:`` or ``~`` cut this one."""
        for offset in range(pos + 1, len(buf)):
            byte = buf[offset]
            if byte == START[0]:
                return offset
            if byte == END[0]:
                return offset + 1
        return None


class EjReassembler(Scanner):
    """The shared scanner with E&J's rules."""

    def __init__(self, *, verify_checksum: bool = True) -> None:
        """Start with an empty buffer."""
        super().__init__(EjRules(verify_checksum=verify_checksum))
