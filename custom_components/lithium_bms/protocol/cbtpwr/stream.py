"""CBT Power frames rebuilt from notifications (shared scanner).

The classic replies go by head, known command and length, tail and sum; the
VB replies are YD/T1363 ASCII frames of device 1 (``codecs/ydt1363.py``)
that are replies of the VB module (its reply version and CID1, a normal
return code): a request echoed or a foreign frame is no reply.
"""

from __future__ import annotations

from ..codecs.ydt1363 import Ydt1363Rules
from ..errors import ProtocolError
from ..scanner import FrameRules, Scanner, refusal
from .frames import HEAD, check_frame, frame_length
from .vb import DEVICE, reply_info


class CbtPowerRules(FrameRules):
    """Classic replies: ``AA 55``, a known command with its length, the sum.

    Recovery: a candidate that waits for bytes is dropped once a complete
    valid reply follows it (a lost notification must not hide the next one).
    """

    name = "CBT Power"
    starts = HEAD[:1]

    def length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the reply that would start at ``pos``."""
        return frame_length(buf, pos)

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error that refuses the complete candidate."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


class CbtPowerReassembler(Scanner):
    """The shared scanner with the classic rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(CbtPowerRules())


class CbtPowerVbRules(Ydt1363Rules):
    """YD/T1363 frames of device 1 that are VB replies."""

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """Refuse a frame that fails its checksum or is no VB reply."""
        if (error := super().check(buf, pos, length)) is not None:
            return error
        return refusal(reply_info, bytes(buf[pos : pos + length]))


class CbtPowerVbReassembler(Scanner):
    """The shared scanner with the VB rules."""

    def __init__(self) -> None:
        """Accept the VB replies of device 1."""
        super().__init__(CbtPowerVbRules((DEVICE,)))
