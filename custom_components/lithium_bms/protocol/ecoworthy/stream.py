"""ECO-WORTHY frames rebuilt from notifications (shared scanner)."""

from __future__ import annotations

from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner
from .frames import COUNTS, CRC_LENGTH, MAC_LENGTH, READ, V1, V2, Framing, check_frame


class EcoworthyRules(FrameRules):
    """Frames by kind byte (or the module's MAC), function 03, count and CRC.

    A V2 frame starts with the module's address, so the rules are made per
    device; without an address only V1 frames are recognised.
    """

    name = "ECO-WORTHY"
    # A V2 frame starts with the MAC's first byte, which can be any byte.
    starts = bytes(range(256))

    def __init__(self, mac: bytes | None) -> None:
        """Rules for the module at ``mac``."""
        self.mac = mac

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the frame that may start at ``pos``."""
        v2 = self._v2_length(buf, pos)
        if v2 != 0:
            return v2
        return _head_length(buf, pos, V1)

    def _v2_length(self, buf: bytearray, pos: int) -> int | None:
        mac = self.mac
        if mac is None:
            return 0
        seen = bytes(buf[pos : pos + MAC_LENGTH])
        if not mac.startswith(seen):
            return 0
        if len(seen) < MAC_LENGTH:
            return NEED_MORE
        return _head_length(buf, pos, V2)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the complete candidate, None when it is valid."""
        try:
            check_frame(bytes(buf[pos : pos + length]), self.mac)
        except ProtocolError as err:
            return err
        return None

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


def _head_length(buf: bytearray, pos: int, layout: Framing) -> int | None:
    """The total length of a frame of ``layout`` at ``pos``: 0 for none."""
    at, head = layout.kind_at, layout.head
    if len(buf) - pos <= at:
        return NEED_MORE
    kind = buf[pos + at]
    if kind not in COUNTS:
        return 0
    if len(buf) - pos < head:
        return NEED_MORE
    if buf[pos + head - 2] != READ or buf[pos + head - 1] != COUNTS[kind]:
        return 0
    return head + COUNTS[kind] + CRC_LENGTH


class EcoworthyReassembler(Scanner):
    """The shared scanner with ECO-WORTHY's rules."""

    def __init__(self, mac: bytes | None) -> None:
        """Start with an empty buffer."""
        super().__init__(EcoworthyRules(mac))
