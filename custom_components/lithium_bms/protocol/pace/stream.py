"""PACE replies rebuilt from the byte stream.

On RS485 the shared YD/T1363 scanner for one address; over Bluetooth the
shared scanner with the rules of the binary frames (:mod:`.ble_frames`).
"""

from __future__ import annotations

from ..codecs.ydt1363 import Ydt1363Reassembler
from ..errors import ProtocolError
from ..scanner import NEED_MORE, FrameRules, Scanner, refusal
from .ble_frames import HEAD, LENGTH_AT, check_frame, frame_length


class PaceReassembler(Ydt1363Reassembler):
    """YD/T1363 frames from the pack at ``address`` only.

    A frame of another address (another pack's reply, or a request to it) is
    never a candidate; the driver's matcher then keeps only PACE replies
    (:func:`.frames.is_reply`), so the echo of a request is not one either.
    """

    def __init__(self, address: int) -> None:
        """Accept frames whose ADR is ``address``."""
        super().__init__((address,))


class PaceBleRules(FrameRules):
    """Frames by head, length byte, tail and CRC.

    Recovery: a candidate still short of bytes is dropped as soon as a
    complete valid frame follows it, so a stray ``9A`` or a truncated reply
    cannot hide the next reply.
    """

    name = "PACE BLE"
    starts = bytes((HEAD,))

    def length(self, buf: bytearray, pos: int) -> int | None:
        """The length the frame at ``pos`` states."""
        if len(buf) - pos <= LENGTH_AT:
            return NEED_MORE
        return frame_length(bytes(buf[pos : pos + LENGTH_AT + 1]))

    def check(self, buf: bytearray, pos: int, length: int) -> ProtocolError | None:
        """The error of the candidate, None when it is a valid frame."""
        return refusal(check_frame, bytes(buf[pos : pos + length]))

    def stalled(self, buf: bytearray, pos: int) -> int | None:
        """Give way to the first complete valid frame after ``pos``."""
        return self.next_valid(buf, pos)


class PaceBleReassembler(Scanner):
    """The shared scanner with the PACE BLE rules."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__(PaceBleRules())
